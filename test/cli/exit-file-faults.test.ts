import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {createSandbox, eventIs, statusOf, waitForStatus, type Sandbox, type SchedulerProcess} from '../helpers/jobdeck.js';
import {starterKinds} from '../helpers/starters.js';
import {mountFullTmpfs, tmpfsOrSayWhy} from '../helpers/tmpfs.js';
import {renderAttachedApp, type AttachedAppHarness} from '../ui/render-app.js';

// Issue 25, point 2, for the exit files: the job starter makes each run's
// exit file in the data dir's runs/ before it forks the wrapper. When it
// cannot (runs/ removed, full, out of inodes), the fault is the scheduler's:
// the job never ran and did not fail. It goes back to the queue with no
// retry used; a removed runs/ is made again, and any other trouble pauses
// the handing out of jobs (status, status --json, the UI's header and an
// event say why) until a re-check can write there. Both starters.

type FinishedView = {id: number; runId: number; exitCode: number | null; outcome: string; attempt?: number; retries?: number};
type FaultsView = {scheduler: {paused: boolean; faults: Array<{kind: string; message: string}>}};

let sandbox: Sandbox;
let app: AttachedAppHarness | undefined;

afterEach(async () => {
	await app?.cleanup();
	app = undefined;
	await sandbox.cleanup();
	delete process.env['JOBDECK_JOB_STARTER'];
});

/** What the jobs wrote to the ledger, one line a run that really ran. */
function ledger(): string[] {
	const path = join(sandbox.dir, 'ledger.txt');
	return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
}

async function queueJobs(slots: number, count: number): Promise<void> {
	sandbox.script('job.sh', '#!/bin/sh\necho "$1" >> ledger.txt\necho "job $1"\n');
	await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', String(slots), 'w1']);
	const added = await sandbox.run(['add-job', '--retries', '2', '--each', './job.sh', ...Array.from({length: count}, (_unused, index) => String(index + 1))]);
	expect(added.exitCode, added.stderr).toBe(0);
}

/** Every job ran once and succeeded at its first attempt, its retries untouched; returns the runs. */
async function allSucceededOnce(count: number): Promise<FinishedView[]> {
	const done = await waitForStatus(sandbox, view => view.queue.length === 0 && view.running.length === 0 && view.finished.length >= count, 120_000);
	const runs = done.finished as unknown as FinishedView[];
	const ids = Array.from({length: count}, (_unused, index) => index + 1);
	expect(runs.map(run => [run.id, run.exitCode, run.outcome, run.attempt ?? 1, run.retries]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(ids.map(id => [id, 0, 'succeeded', 1, 2]));
	expect(ledger().sort((a, b) => Number(a) - Number(b))).toEqual(ids.map(String));
	return runs;
}

/** The runs that never started went back to the queue, and their logs, made new for them and empty, were removed. */
function expectAbandonedWithoutLogs(scheduler: SchedulerProcess, reason: RegExp): void {
	const abandoned = scheduler.events().filter(eventIs('run-abandoned'));
	expect(abandoned.length, scheduler.output()).toBeGreaterThan(0);
	for (const event of abandoned) {
		expect(event.reason).toMatch(reason);
		expect(existsSync(event.run.logFile), event.run.logFile).toBe(false);
	}
}

const mountCheck = tmpfsOrSayWhy('the runs/-out-of-inodes tests');

describe.each(starterKinds)('with the $kind job starter', ({kind, skip}) => {
	let runsDir: string;

	beforeEach(context => {
		sandbox = createSandbox();
		runsDir = join(sandbox.dataDir, 'runs');
		if (skip) context.skip();
		// The schedulers started here inherit it.
		process.env['JOBDECK_JOB_STARTER'] = kind;
	});

	it('rm -rf of runs/ with 8 jobs queued (--retries 2): runs/ is made again (0700), and every job runs once and succeeds at its first attempt', async () => {
		const scheduler = await sandbox.startScheduler(['--json']);
		await sandbox.run(['pause']);
		await queueJobs(4, 8);
		rmSync(runsDir, {recursive: true, force: true});
		await sandbox.run(['resume']);

		await allSucceededOnce(8);
		expect(statSync(runsDir).mode & 0o777).toBe(0o700);
		expect(scheduler.output()).toContain(`the runs dir ${runsDir} was gone: made it again`);
		expectAbandonedWithoutLogs(scheduler, new RegExp(`^its exit file could not be made: could not create the exit file ${runsDir}/\\d+\\.exit: no such file or directory$`));
		// Made again at once: no pause.
		expect(scheduler.events().filter(eventIs('fault'))).toEqual([]);
		expect((await statusOf(sandbox) as unknown as FaultsView).scheduler.faults).toEqual([]);
	});

	describe.skipIf(!mountCheck.ok)('runs/ on a tmpfs out of inodes', () => {
		let fillers: string[] = [];

		beforeEach(() => {
			mkdirSync(runsDir, {recursive: true, mode: 0o700});
			fillers = mountFullTmpfs(runsDir, 8);
		});

		afterEach(() => {
			// Detached at once, gone when the scheduler (stopped by the sandbox's clean-up, next) lets go of it.
			spawnSync('umount', ['-l', runsDir]);
		});

		it('no job fails: they wait, status, status --json, the UI\'s header and an event say why, and once inodes are freed they run and succeed, no retry used', async () => {
			const scheduler = await sandbox.startScheduler(['--json']);
			await queueJobs(2, 4);
			const message = `cannot write exit files in ${runsDir}: no space left on device`;

			const fault = await scheduler.waitForEvents(events => events.find(eventIs('fault')), 'a fault event');
			expect(fault.fault).toMatchObject({kind: 'exit-files', message});
			// Runs handed out before the fault came back too: every job is queued, none ran, none finished.
			const waiting = await waitForStatus(sandbox, view => view.queue.length === 4 && view.running.length === 0);
			expect(waiting.finished).toEqual([]);
			expect((waiting as unknown as FaultsView).scheduler).toMatchObject({paused: false, faults: [{kind: 'exit-files', message}]});
			expect(ledger()).toEqual([]);
			expectAbandonedWithoutLogs(scheduler, new RegExp(`^its exit file could not be made: could not create the exit file ${runsDir}/\\d+\\.exit: no space left on device$`));
			const plain = await sandbox.run(['status']);
			expect(plain.stdout).toContain(`paused: ${message}`);
			app = await renderAttachedApp(sandbox, {columns: 240, rows: 30});
			await app.waitForScreen(`‖ paused: ${message}`);

			// Room for exit files again: the re-check finds it, and the jobs run.
			for (const filler of fillers) rmSync(filler);
			await allSucceededOnce(4);
			const cleared = await scheduler.waitForEvents(events => events.find(eventIs('fault-cleared')), 'the fault cleared');
			expect(cleared.kind).toBe('exit-files');
			expect((await statusOf(sandbox) as unknown as FaultsView).scheduler.faults).toEqual([]);
			await app.waitForScreen('● running');
			// The re-check's probe files are gone with it.
			expect(readdirSync(runsDir).filter(name => name.startsWith('.jobdeck-probe'))).toEqual([]);
		});
	});
});

describe('a data dir that is gone (its disk unmounted, say)', () => {
	beforeEach(() => {
		sandbox = createSandbox();
	});

	it('is not made again beneath it: runs/ is made again only inside a data dir that is still there, and the jobs wait with the fault', async () => {
		// One slot: the second job is handed out only after the first ends, once the data dir is gone.
		sandbox.script('hold.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\n');
		const scheduler = await sandbox.startScheduler(['--json']);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		expect((await sandbox.run(['add-job', './hold.sh'])).exitCode).toBe(0);
		expect((await sandbox.run(['add-job', '/bin/true'])).exitCode).toBe(0);
		await scheduler.waitForEvents(events => events.find(eventIs('job-started')), 'the first job to start');
		rmSync(sandbox.dataDir, {recursive: true, force: true});
		writeFileSync(join(sandbox.dir, 'release'), '');

		const runsDir = join(sandbox.dataDir, 'runs');
		const fault = await scheduler.waitForEvents(events => events.find(eventIs('fault')), 'the exit-files fault');
		expect(fault.fault.kind).toBe('exit-files');
		expect(fault.fault.message).toBe(`cannot write exit files in ${runsDir}: it was gone and could not be made again: no such file or directory`);
		// What mkdir -p would have made: the data dir, back on the disk beneath.
		expect(existsSync(sandbox.dataDir)).toBe(false);
		// The second job never ran, and nothing said it did.
		expect(scheduler.events().filter(eventIs('job-finished')).map(event => event.run.script)).not.toContain('/bin/true');
	});
});
