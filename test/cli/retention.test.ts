import {closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {execa} from 'execa';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, cliPath, createSandbox, statusOf, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// Retention against real schedulers: `jobdeck clean`, the saved policy
// (`start --keep-finished/--keep-for`), what is kept because something still
// needs it, a clean killed midway, and the bounded scheduler.log.

let sandbox: Sandbox;

beforeEach(() => {
	sandbox = createSandbox('jobdeck-retention-');
});

afterEach(async () => {
	await sandbox.cleanup();
});

type Run = {runId: number; id: number; outcome: string; logFile: string; endedAt: number};

function history(): Run[] {
	const path = join(sandbox.dataDir, 'history.jsonl');
	if (!existsSync(path)) return [];
	return readFileSync(path, 'utf8').split('\n').filter(line => line.length > 0).map(line => JSON.parse(line) as Run);
}

function logFiles(): string[] {
	return existsSync(sandbox.logDir) ? readdirSync(sandbox.logDir).sort() : [];
}

type RetentionView = {keepFinished: number | null; keepForMs: number | null; finishedRuns: number | null; lastClean: null | {removedRuns: number; by: string; protectedRuns: number}};

async function retentionOf(): Promise<RetentionView> {
	return ((await statusOf(sandbox)).scheduler as unknown as {retention: RetentionView}).retention;
}

/** Runs `count` jobs and waits until the workers have recorded them all (the history may be cleaned meanwhile). */
async function runJobs(count: number, script = '/bin/true'): Promise<void> {
	const ran = (view: Awaited<ReturnType<typeof statusOf>>) => view.workers.reduce((total, worker) => total + worker.jobsDone + worker.jobsFailed, 0);
	const before = ran(await statusOf(sandbox));
	const result = await sandbox.run(['add-job', '--each', script, ...Array.from({length: count}, (_, index) => String(index))]);
	expect(result.exitCode, result.stderr).toBe(0);
	await waitForStatus(sandbox, view => ran(view) >= before + count && view.running.length === 0, 30_000);
}

describe('jobdeck clean', () => {
	it('removes runs by count, outcome and age, with their log files, and says what it removed', async () => {
		sandbox.script('fail.sh', '#!/bin/sh\necho failing\nexit 3\n');
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
		await runJobs(6, '/bin/echo');
		await runJobs(2, './fail.sh');
		expect(logFiles()).toHaveLength(8);

		const byOutcome = await sandbox.run(['clean', '--outcome', 'failed']);
		expect(byOutcome.exitCode, byOutcome.stderr).toBe(0);
		expect(byOutcome.stdout).toMatch(/^removed 2 finished runs of jobs 7-8 \(2 failed\) and 2 log files \(\d+ B\); 6 finished runs kept\n$/);
		expect(history().map(run => run.outcome)).toEqual(Array(6).fill('succeeded'));

		const byCount = await sandbox.run(['clean', '--keep', '2', '--json']);
		expect(byCount.exitCode, byCount.stderr).toBe(0);
		expect(JSON.parse(byCount.stdout)).toMatchObject({removedRuns: 4, removedLogs: 4, byOutcome: {succeeded: 4}, jobIds: {first: 1, last: 4}, keptRuns: 2, protectedRuns: 0});
		expect(history().map(run => run.id).sort()).toEqual([5, 6]);
		expect(logFiles()).toEqual(history().map(run => `job_${run.runId}.txt`).sort());

		// Age: nothing ended an hour ago; once the newest recorded end is over a second old, --older-than 1s takes both.
		expect((await sandbox.run(['clean', '--older-than', '1h'])).stdout).toMatch(/^removed no finished run; 2 finished runs kept/);
		const newestEnd = Math.max(...history().map(run => run.endedAt));
		await waitFor(() => Date.now() > newestEnd + 1000, 10_000, 'a second past the newest run\'s end');
		expect((await sandbox.run(['clean', '--older-than', '1s'])).stdout).toMatch(/^removed 2 finished runs/);
		expect(history()).toEqual([]);
		expect(logFiles()).toEqual([]);
		// What status shows comes from the same records: the removed runs are gone from it too.
		expect((await statusOf(sandbox)).finished).toEqual([]);
	});

	it('keeps the runs that queued or running jobs still need: their own earlier attempts, and the last run of a job they run --after', async () => {
		sandbox.script('hold.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\n');
		sandbox.script('fail.sh', '#!/bin/sh\nexit 1\n');
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '3', 'w1']);
		const first = await addJob(sandbox, ['/bin/true']);
		const older = await addJob(sandbox, ['/bin/true']);
		await waitFor(() => history().length === 2 || undefined);
		// A failed attempt whose retry waits an hour: the job is queued again.
		const retrying = await addJob(sandbox, ['--retries', '1', '--retry-delay', '1h', './fail.sh']);
		await waitFor(() => history().some(run => run.id === retrying) || undefined);
		const holding = await addJob(sandbox, ['./hold.sh']);
		const waiting = await addJob(sandbox, ['--after', `${first},${holding}`, '/bin/true']);
		await waitForStatus(sandbox, view => view.running.some(run => run.id === holding) && view.queue.some(job => job.id === waiting));

		const result = await sandbox.run(['clean', '--keep', '0', '--json']);
		expect(result.exitCode, result.stderr).toBe(0);
		expect(JSON.parse(result.stdout)).toMatchObject({removedRuns: 1, keptRuns: 2, protectedRuns: 2, jobIds: {first: older, last: older}});
		expect(history().map(run => run.id).sort()).toEqual([first, retrying].sort());
		expect(existsSync(history().find(run => run.id === first)!.logFile)).toBe(true);

		// Once the dependant has run, nothing needs them any more.
		writeFileSync(join(sandbox.dir, 'release'), '');
		await waitFor(() => history().some(run => run.id === waiting) || undefined);
		await sandbox.run(['cancel', String(retrying)]);
		const after = await sandbox.run(['clean', '--keep', '0', '--json']);
		expect(JSON.parse(after.stdout)).toMatchObject({keptRuns: 0, protectedRuns: 0});
		expect(logFiles()).toEqual([]);
	});

	it('refuses bad input in one line with a non-zero exit and changes nothing', async () => {
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		await runJobs(3);
		const before = readFileSync(join(sandbox.dataDir, 'history.jsonl'), 'utf8');
		for (const args of [[], ['--keep', '-1'], ['--keep', 'x'], ['--older-than', '3y'], ['--older-than', ''], ['--outcome', 'won'], ['--outcome', 'failed,']]) {
			const result = await sandbox.run(['clean', ...args]);
			expect(result.exitCode, args.join(' ')).not.toBe(0);
			expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
			expect(result.stderr).toMatch(/^jobdeck: /);
		}

		expect(readFileSync(join(sandbox.dataDir, 'history.jsonl'), 'utf8')).toBe(before);
		expect(logFiles()).toHaveLength(3);

		for (const flags of [['--keep-finished', 'many'], ['--keep-for', '10'.repeat(3) + 'y'], ['--keep-for', '500ms']]) {
			const result = await sandbox.run(['start', '--headless', '--data-dir', join(sandbox.dir, 'other'), ...flags]);
			expect(result.exitCode, flags.join(' ')).not.toBe(0);
			expect(result.stderr.trim().split('\n')).toHaveLength(1);
			expect(existsSync(join(sandbox.dir, 'other')), 'a refused start makes no data dir').toBe(false);
		}

		await sandbox.run(['stop']);
		const offline = await sandbox.run(['clean', '--keep', '0']);
		expect(offline.exitCode).not.toBe(0);
		expect(offline.stderr).toMatch(/^jobdeck: no scheduler is running/);
	});
});

describe('retention policy', () => {
	it('applies by itself, is saved across restarts, shows in status --json, and can be lifted', async () => {
		let scheduler = await sandbox.startScheduler(['--keep-finished', '3']);
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
		await runJobs(12);
		// The policy cleans once the history passes 3 by a tenth (at least one run): never more than 4 stay.
		const bounded = () => history().length <= 4 && logFiles().length === history().length;
		await waitFor(() => bounded() || undefined, 20_000, `a bounded history; have ${history().length} runs and ${logFiles().length} logs`);
		expect(await retentionOf()).toMatchObject({keepFinished: 3, keepForMs: null, lastClean: {by: 'policy'}});
		await scheduler.stop();
		// The history's last good copy is of the cleaned history, not the old one with the new one's tail glued on.
		expect(readFileSync(join(sandbox.dataDir, 'history.jsonl.prev'), 'utf8')).toBe(readFileSync(join(sandbox.dataDir, 'history.jsonl'), 'utf8'));

		// Saved: a start without the flag keeps it.
		scheduler = await sandbox.startScheduler();
		expect(await retentionOf()).toMatchObject({keepFinished: 3, keepForMs: null});
		await runJobs(8);
		await waitFor(() => bounded() || undefined, 20_000, `a bounded history after a restart; have ${history().length}`);
		await scheduler.stop();

		// Only the flag given changes: --keep-for joins the saved --keep-finished; `off` lifts a bound.
		scheduler = await sandbox.startScheduler(['--keep-for', '2h']);
		expect(await retentionOf()).toMatchObject({keepFinished: 3, keepForMs: 7_200_000});
		await scheduler.stop();
		scheduler = await sandbox.startScheduler(['--keep-finished', 'off', '--keep-for', 'off']);
		expect(await retentionOf()).toMatchObject({keepFinished: null, keepForMs: null});
		const kept = history().length;
		await runJobs(6);
		// The history line follows the recorded end by a moment.
		await waitFor(() => history().length === kept + 6 || undefined, 10_000, `${kept + 6} runs kept with the policy lifted`);
		// The history is past the old bound, and this scheduler has not cleaned.
		expect(kept + 6).toBeGreaterThan(4);
		expect((await retentionOf()).lastClean).toBeNull();
		// And the stopped scheduler's status shows the saved policy too.
		await scheduler.stop();
		expect(await retentionOf()).toMatchObject({keepFinished: null, keepForMs: null});
	});

	it('--keep-for removes runs once they are older than it', async () => {
		await sandbox.startScheduler(['--keep-for', '2s']);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		await runJobs(3);
		const newestEnd = Math.max(...history().map(run => run.endedAt));
		// The records go first, their log files right after.
		await waitFor(() => (history().length === 0 && logFiles().length === 0) || undefined, 30_000, `the runs gone once 2s old (newest ended at ${newestEnd}); have ${history().length} runs, ${logFiles().length} logs`);
		const {lastClean} = await retentionOf();
		expect(lastClean).toMatchObject({by: 'policy'});
		// Not before they were 2 s old, by the scheduler's own record of their end.
		expect((lastClean as unknown as {at: number}).at).toBeGreaterThanOrEqual(newestEnd + 2000);
	});
});

/** A data dir with a history of `runs` finished runs (and a log file for each of the first `logs`), made by a real scheduler and then extended while stopped. */
async function bigHistory(runs: number, logs: number): Promise<void> {
	const scheduler = await sandbox.startScheduler();
	await scheduler.stop();
	mkdirSync(sandbox.logDir, {recursive: true});
	const now = Date.now();
	let text = '';
	for (let index = 1; index <= runs; index++) {
		const logFile = join(sandbox.logDir, `job_${index}.txt`);
		text += JSON.stringify({id: index, script: '/bin/true', args: [String(index)], env: {}, cwd: sandbox.dir, queuedAt: now, runId: index, worker: 'w1', startedAt: now, logFile, endedAt: now, exitCode: 0, signal: null, outcome: 'succeeded'}) + '\n';
		if (index <= logs) writeFileSync(logFile, 'x\n');
		if (text.length > 1 << 20) {
			appendFileSync(join(sandbox.dataDir, 'history.jsonl'), text);
			text = '';
		}
	}

	appendFileSync(join(sandbox.dataDir, 'history.jsonl'), text);
	// As a scheduler that recorded them would have left it: the snapshot knows the history's size, so a start reads none of it.
	const historyBytes = statSync(join(sandbox.dataDir, 'history.jsonl')).size;
	for (const file of ['state.json', 'state.json.prev']) {
		const path = join(sandbox.dataDir, file);
		writeFileSync(path, JSON.stringify({...JSON.parse(readFileSync(path, 'utf8')) as object, historyBytes}));
	}
}

describe('a clean killed midway', () => {
	// Each stage of a clean, with the scheduler SIGKILLed in it: the next start holds the old history or the new one,
	// whole, removes the log files of every run the new one lacks, and leaves no temp file behind.
	const stages = [
		{name: 'while the new history is written', reached: () => existsSync(join(sandbox.dataDir, 'history.jsonl.clean'))},
		{name: 'once it is committed, while the logs are removed', reached: () => !existsSync(join(sandbox.dataDir, 'history.jsonl.clean')) && existsSync(join(sandbox.dataDir, 'clean.pending'))},
	];
	for (const stage of stages) {
		it(`leaves a consistent data dir when killed ${stage.name}`, async () => {
			const runs = 100_000;
			const logs = 5000;
			await bigHistory(runs, logs);
			const scheduler = await sandbox.startScheduler();
			const cleaning = sandbox.run(['clean', '--keep', '10']);
			await waitFor(() => stage.reached() || undefined, 60_000, `the stage "${stage.name}"`);
			scheduler.process.kill('SIGKILL');
			await scheduler.process;
			await cleaning;

			await sandbox.startScheduler();
			const kept = history();
			// Either nothing happened or all of it did.
			expect([runs, 10]).toContain(kept.length);
			// The old history is every run; the new one, the newest 10.
			const firstKept = kept.length === runs ? 1 : runs - 9;
			expect(kept.map(run => run.id)).toEqual(Array.from({length: kept.length}, (_, index) => firstKept + index));
			const keptLogs = new Set(kept.map(run => `job_${run.runId}.txt`));
			// Every log a kept run names is there (as far as the test made them), and none that a removed run named.
			expect(logFiles().filter(log => !keptLogs.has(log))).toEqual([]);
			// Only the oldest runs had logs: all of them are left with the old history, none with the new.
			expect(logFiles()).toHaveLength(kept.length === runs ? logs : 0);
			expect(existsSync(join(sandbox.dataDir, 'history.jsonl.clean'))).toBe(false);
			expect(existsSync(join(sandbox.dataDir, 'clean.pending'))).toBe(false);
			// And the scheduler goes on: a clean and a new run work on what was left.
			await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
			const id = await addJob(sandbox, ['/bin/true']);
			await waitFor(() => history().some(run => run.id === id) || undefined);
			expect((await sandbox.run(['clean', '--keep', '1'])).exitCode).toBe(0);
			expect(history().map(run => run.id)).toEqual([id]);
		}, 240_000);
	}
});

describe('scheduler.log', () => {
	it('is rotated at a size by a scheduler that went on in the background', async () => {
		// Started the way continueInBackground starts it: stdout and stderr appended to scheduler.log, which it rotates.
		mkdirSync(sandbox.dataDir, {recursive: true, mode: 0o700});
		const logFile = join(sandbox.dataDir, 'scheduler.log');
		const output = openSync(logFile, 'a', 0o600);
		const child = execa('node', [cliPath, 'start', '--headless', '--data-dir', sandbox.dataDir, '--log-dir', sandbox.logDir, '--rotate-output', logFile], {
			cwd: sandbox.dir,
			env: {JOBDECK_SCHEDULER_LOG_MAX_BYTES: '4000'},
			stdio: ['ignore', output as 3, output as 3],
			reject: false,
		});
		closeSync(output);
		try {
			await waitFor(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('scheduler running on') || undefined);
			await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
			await runJobs(60);
			await waitFor(() => existsSync(`${logFile}.2`) || undefined, 20_000, 'scheduler.log.2');
			// Bounded: the current file under the limit plus one batch of events, the two older ones likewise.
			for (const file of [logFile, `${logFile}.1`, `${logFile}.2`]) expect(statSync(file).size).toBeLessThan(4000 + 4000);
			expect(existsSync(`${logFile}.3`)).toBe(false);
			expect(readFileSync(`${logFile}.1`, 'utf8')).toMatch(/finished job \d+ on w1/);
			// Still the scheduler's stdout: what it writes next lands in scheduler.log.
			const size = statSync(logFile).size;
			await runJobs(2);
			await waitFor(() => statSync(logFile).size !== size || undefined);
		} finally {
			child.kill('SIGTERM');
			await child;
		}
	});
});
