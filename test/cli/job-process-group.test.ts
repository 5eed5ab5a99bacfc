import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, createSandbox, isAlive, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';
import {starterKinds} from '../helpers/starters.js';

// Each job leads its own session and process group, as under cli.py
// (start_new_session=True), through a real scheduler and both job starters:
// the job's own `kill -- -$$`, `kill 0` and EXIT traps reach its group and
// nothing else; cancel and timeout reach every process of the job's group,
// also after a restart; and what the job truly did is recorded.


/** example_job.sh's trap, word for word (test/fixtures/example_job.sh). */
const originalTrap = 'trap "trap - SIGTERM && kill -- -$$" SIGINT SIGTERM EXIT';
/** The one-line change docs/coming-from-cli-py.md gives: the group still goes, the script ends with its own status. */
const ownStatusTrap = 'trap "trap \'\' SIGTERM; kill -- -$$" EXIT';

/** A job that leaves a background child and a grandchild in its group (their pids in files), then does `body`. */
function familyScript(body: string): string {
	return [
		'#!/bin/bash',
		'sleep 300 & echo $! > "child.$JOB_ID"',
		'bash -c \'sleep 300 & echo $! > "grandchild.$JOB_ID"; wait\' &',
		'while [ ! -s "grandchild.$JOB_ID" ]; do sleep 0.02; done',
		// Fields 5 and 6 of /proc/PID/stat, after the command name (which has no spaces here).
		'read -r _ _ _ _ group session _ < /proc/$$/stat; echo "job $$: group $group, session $session"',
		body,
		'',
	].join('\n');
}

/** Each stat field of /proc/PID/stat after the command name. */
function statOf(pid: number): string[] | undefined {
	try {
		const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return text.slice(text.lastIndexOf(')') + 2).split(' ');
	} catch {
		return undefined;
	}
}

/** Every live process in process group `group`. */
function membersOf(group: number): number[] {
	const members: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		const stat = statOf(Number(entry));
		if (stat && stat[0] !== 'Z' && stat[0] !== 'X' && Number(stat[2]) === group) members.push(Number(entry));
	}

	return members;
}

describe.each(starterKinds)('with the $kind job starter', ({kind, skip}) => {
	let sandbox: Sandbox;
	/** Pids a test made, killed should it fail. */
	const strays: number[] = [];

	beforeEach(context => {
		sandbox = createSandbox();
		if (skip) context.skip();
		process.env['JOBDECK_JOB_STARTER'] = kind;
	});

	afterEach(async () => {
		for (const pid of strays.splice(0)) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {}
		}

		await sandbox.cleanup();
		delete process.env['JOBDECK_JOB_STARTER'];
	});

	const pidIn = async (name: string) => Number(await waitFor(() => existsSync(join(sandbox.dir, name)) && readFileSync(join(sandbox.dir, name), 'utf8').trim(), 60_000, name));

	async function children(runId: number): Promise<number[]> {
		const pids = [await pidIn(`child.${runId}`), await pidIn(`grandchild.${runId}`)];
		strays.push(...pids);
		return pids;
	}

	async function finishedRun(id: number) {
		const status = await waitForStatus(sandbox, view => view.finished.some(run => run.id === id), 60_000);
		return status.finished.find(run => run.id === id)!;
	}

	it('a job\'s own `kill -- -$$` (example_job.sh\'s trap) ends the children it left in its group, and the job is recorded as that trap ends it: by SIGTERM', async () => {
		const script = sandbox.script('original-trap.sh', familyScript(`${originalTrap}\necho done`));
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, [script]);
		const run = await finishedRun(id);
		const [child, grandchild] = await children(run.runId);
		await waitFor(() => !isAlive(child!) && !isAlive(grandchild!), 60_000, `the job's children ${child} and ${grandchild} to end`);
		const log = readFileSync(run.logFile, 'utf8');
		// The job led its group and session: its pid is both.
		// The wrapper says how the job ended, as sh does.
		expect(log).toMatch(/^job (\d+): group \1, session \1\ndone\nTerminated\n$/);
		expect(log).not.toMatch(/No such process/);
		expect(run).toMatchObject({exitCode: null, signal: 'SIGTERM', outcome: 'failed'});
	});

	it('with the one-line change to the trap, the group still ends and the job ends with its own status; `kill 0` works the same', async () => {
		const fixed = sandbox.script('own-status.sh', familyScript(`${ownStatusTrap}\nexit "$1"`));
		const killZero = sandbox.script('kill-zero.sh', familyScript('trap "" SIGTERM\nkill 0\nexit 0'));
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '3', 'w1']);
		const ids = [await addJob(sandbox, [fixed, '0']), await addJob(sandbox, [fixed, '3']), await addJob(sandbox, [killZero])];
		const runs = await Promise.all(ids.map(async id => finishedRun(id)));
		for (const run of runs) {
			const [child, grandchild] = await children(run.runId);
			await waitFor(() => !isAlive(child!) && !isAlive(grandchild!), 60_000, `the children of run ${run.runId} to end`);
			expect(readFileSync(run.logFile, 'utf8')).toMatch(/^job (\d+): group \1, session \1\n$/);
		}

		expect(runs.map(run => [run.exitCode, run.signal, run.outcome])).toEqual([[0, null, 'succeeded'], [3, null, 'failed'], [0, null, 'succeeded']]);
	});

	for (const how of ['cancel', 'timeout'] as const) {
		it(`${how} reaches every process of a group-leading job: SIGTERM, then SIGKILL for a job that ignores it`, async () => {
			const polite = sandbox.script('polite.sh', familyScript('sleep 300'));
			const stubborn = sandbox.script('stubborn.sh', familyScript('trap "" SIGTERM\nwhile :; do sleep 0.05; done'));
			await sandbox.startScheduler();
			await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
			const timeout = how === 'timeout' ? ['--timeout', '5s'] : [];
			const ids = [await addJob(sandbox, [...timeout, polite]), await addJob(sandbox, [...timeout, stubborn])];
			// A timeout may well come before a status on a busy machine could show the jobs running: the runs are
			// then taken from their records once they ended, and the processes are found by the files they wrote.
			const runsOf = async () => how === 'cancel'
				? (await waitForStatus(sandbox, view => view.running.length === 2 && view.running.every(run => run.pid !== undefined))).running
				: Promise.all(ids.map(async id => finishedRun(id)));
			const jobs = await Promise.all((await runsOf()).map(async run => ({run, children: await children(run.runId)})));
			const leaders = jobs.map(({run}) => Number(readFileSync(run.logFile, 'utf8').match(/^job (\d+)/)?.[1]));
			if (how === 'cancel') expect(await sandbox.run(['cancel', '--grace', '1s', ...ids.map(String)])).toMatchObject({exitCode: 0});
			const ended = await Promise.all(ids.map(async id => finishedRun(id)));
			const outcome = how === 'cancel' ? 'cancelled' : 'timed-out';
			expect(ended.map(run => [run.id, run.signal, run.outcome])).toEqual([[ids[0], 'SIGTERM', outcome], [ids[1], 'SIGKILL', outcome]]);
			for (const [index, {children: [child, grandchild]}] of jobs.entries()) {
				await waitFor(() => !isAlive(child!) && !isAlive(grandchild!) && membersOf(leaders[index]!).length === 0, 60_000, `every process of job ${ids[index]}'s group (${leaders[index]}) to end`);
			}
		});
	}

	it('after a restart, the adopted job is found and a cancel still reaches its whole group', async () => {
		const script = sandbox.script('long.sh', familyScript('sleep 300'));
		const first = await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, [script]);
		const {running: [run]} = await waitForStatus(sandbox, view => view.running.length === 1 && view.running[0]!.pid !== undefined);
		const [child, grandchild] = await children(run!.runId);
		await first.stop();
		expect(isAlive(run!.pid!) && isAlive(child!) && isAlive(grandchild!)).toBe(true);

		await sandbox.startScheduler();
		expect((await waitForStatus(sandbox, view => view.running.length === 1)).running[0]).toMatchObject({id, pid: run!.pid});
		expect(await sandbox.run(['cancel', String(id)])).toMatchObject({exitCode: 0});
		expect(await finishedRun(id)).toMatchObject({signal: 'SIGTERM', outcome: 'cancelled'});
		await waitFor(() => !isAlive(child!) && !isAlive(grandchild!), 60_000, 'the adopted job\'s children to end');
	});
});
