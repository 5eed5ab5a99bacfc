import {existsSync, readFileSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, createSandbox, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';
import {starterKinds} from '../helpers/starters.js';

// The exit file a job's wrapper leaves in runs/, read by a real scheduler
// that was not running when the job ended: the end time it holds is the
// run's (not the restart's), an exit file of before (a status, no time) is
// still read, and one that holds garbage is named and its run recorded lost.


describe.each(starterKinds)('with the $kind job starter', ({kind, skip}) => {
	let sandbox: Sandbox;

	beforeEach(context => {
		sandbox = createSandbox();
		if (skip) context.skip();
		process.env['JOBDECK_JOB_STARTER'] = kind;
	});

	afterEach(async () => {
		await sandbox.cleanup();
		delete process.env['JOBDECK_JOB_STARTER'];
	});

	/** Runs a job that exits `code` once released, with no scheduler running at that moment; resolves with its exit file once the wrapper wrote it. */
	async function endWhileStopped(code: number) {
		const script = sandbox.script('held.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.02; done\nexit "$1"\n');
		const scheduler = await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, [script, String(code)]);
		const {running: [run]} = await waitForStatus(sandbox, view => view.running.length === 1 && view.running[0]!.pid !== undefined);
		await scheduler.stop();
		writeFileSync(join(sandbox.dir, 'release'), '');
		const exitFile = join(sandbox.dataDir, 'runs', `${run!.runId}.exit`);
		const written = await waitFor(() => (existsSync(exitFile) && /^(\d+) (\d+)\n$/.exec(readFileSync(exitFile, 'utf8'))) ?? undefined, undefined, `the status in ${exitFile}`);
		return {id, run: run!, exitFile, endedAt: Number(written[2])};
	}

	async function finishedAfterRestart(id: number, args: string[] = []) {
		const scheduler = await sandbox.startScheduler(args);
		const status = await waitForStatus(sandbox, view => view.finished.some(run => run.id === id));
		return {scheduler, finished: status.finished.find(run => run.id === id)!};
	}

	it('a run that ended while no scheduler ran is recorded with the end its wrapper wrote, not the restart\'s', async () => {
		const {id, run, endedAt} = await endWhileStopped(0);
		const {scheduler, finished} = await finishedAfterRestart(id, ['--json']);
		expect(finished).toMatchObject({outcome: 'succeeded', exitCode: 0, startedAt: run.startedAt});
		// Perl without Time::HiRes writes whole seconds: never before the start.
		expect(finished.endedAt).toBe(Math.max(endedAt, run.startedAt));
		// And not the restart's: by the restarted scheduler's own record, it started after that end.
		const restartedAt = scheduler.events()[0]!.at;
		expect(finished.endedAt).toBeLessThan(restartedAt);
	});

	it('an exit file of before (a status, no end time) is still read: its end is the file\'s time', async () => {
		const {id, run, exitFile} = await endWhileStopped(7);
		writeFileSync(exitFile, '7\n');
		const fileTime = new Date(run.startedAt + 1234);
		utimesSync(exitFile, fileTime, fileTime);
		const {finished} = await finishedAfterRestart(id);
		expect(finished).toMatchObject({outcome: 'failed', exitCode: 7, signal: null, endedAt: run.startedAt + 1234});
	});

	it('an exit file with garbage in it is named in the scheduler\'s output, and its run recorded lost', async () => {
		const {id, run, exitFile} = await endWhileStopped(0);
		writeFileSync(exitFile, 'garbage\u0000\n');
		const {scheduler, finished} = await finishedAfterRestart(id);
		expect(finished).toMatchObject({outcome: 'lost', exitCode: null, signal: null});
		await scheduler.waitForOutput(new RegExp(`job ${id} \\(run ${run.runId}\\) is recorded as lost: the exit file ${exitFile} holds "garbage\\\\u0000\\\\n", not an exit status`));
	});
});
