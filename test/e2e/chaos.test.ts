import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {execa, type ResultPromise} from 'execa';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {cliPath, createSandbox, isAlive, waitFor, waitForStatus, type Sandbox, type SchedulerProcess, type StatusView} from '../helpers/jobdeck.js';

// Chaos: a real headless scheduler SIGKILLed again and again at random
// moments while a thousand jobs run, and add-job clients racing each other
// and a dying scheduler. Whatever happens, every acknowledged job runs
// exactly once (or exactly as often as its retries allow), no run is lost,
// and every run is recorded with its true exit code. Jobs carry priorities,
// needed tags and a dependency, which the kills must not lose either.
//
// Each job appends one line `<its argument> <JOB_ID>` to a ledger with a
// single small `echo >>` (O_APPEND: atomic), before anything else, so the
// ledger sees every run that ever started, whatever the scheduler recorded.
//
// The randomness is seeded: CHAOS_SEED=<n> replays the same kill schedule
// (the timing of the machine still varies). CHAOS_SLOW_DISK_MS=<n> makes every
// append of the scheduler to its journal and history wait a random 0–n ms
// first, like a slow disk: that widens every window between a change made in
// memory and the change on disk, which is where a SIGKILL does harm.

const seed = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);
/** A random whole number in [low, high]. */
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const sleep = async (ms: number) => new Promise(resolveSleep => {
	setTimeout(resolveSleep, ms);
});
/** Set per test: the suite runs the chaos test on a fast disk and on a slow one (CHAOS_SLOW_DISK_MS picks just one). */
let slowDiskMs = 0;
const slowDiskRuns = process.env['CHAOS_SLOW_DISK_MS'] === undefined ? [0, 60] : [Number(process.env['CHAOS_SLOW_DISK_MS'])];
/** Loaded into the scheduler with --import: delays every FileHandle write (the engine's journal and history appends). */
const slowDiskPreload = (maxMs: number) => `import {open} from 'node:fs/promises';
const handle = await open('/dev/null', 'r');
const prototype = Object.getPrototypeOf(handle);
await handle.close();
const write = prototype.write;
prototype.write = async function (...args) {
	await new Promise(resolve => setTimeout(resolve, Math.random() * ${maxMs}));
	return write.apply(this, args);
};
`;

let sandbox: Sandbox;
/** The environment of every scheduler started here: with CHAOS_SLOW_DISK_MS, the slow-disk preload. */
const schedulerEnv = (): Record<string, string> => (slowDiskMs > 0
	? {NODE_OPTIONS: `--import=${sandbox.script('slow-disk.mjs', slowDiskPreload(slowDiskMs))}`}
	: {});
const startScheduler = async () => sandbox.startScheduler([], {env: schedulerEnv()});
/** Schedulers started without sandbox.startScheduler (to kill them before they answer): ended in afterEach if a test fails. */
const rawSchedulers: ResultPromise[] = [];

beforeEach(() => {
	sandbox = createSandbox('jobdeck-chaos-');
});

afterEach(async () => {
	for (const child of rawSchedulers.splice(0)) {
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
		await child;
	}

	await sandbox.cleanup();
});

// The jobs of the chaos test, all derived from their argument n.

const jobCount = 1000;
/** Every 10th job fails, with a code of its own. */
const isFailing = (n: number) => n % 10 === 3;
const exitCodeOf = (n: number) => (isFailing(n) ? 3 + (10 * (n % 7)) : 0);
/** The failing jobs are added with `--retries 2`: every attempt must run exactly once too. */
const retriesOfFailing = 2;
const failingJobFlags = ['--retries', String(retriesOfFailing)];
/** How many finished runs job n must end up with; each run has its own JOB_ID and its own ledger line. */
const expectedRuns = (n: number) =>
	// A failing job fails every attempt, so it has 1 + retriesOfFailing runs, all with the same job id; the others 1.
	(isFailing(n) ? 1 + retriesOfFailing : 1);

/**
 * What the scheduler keeps besides the queue, so that it is put through the kills too: the second batch has
 * a priority, the third needs a tag two of the eight workers have, the fourth waits for job n=1 (which
 * succeeds) and has a lower priority. None of it changes how often a job runs.
 */
const batchFlags = (batch: number, idOfFirstJob: () => number): string[] => {
	switch (batch) {
		case 1: {
			return ['--priority', '3'];
		}

		case 2: {
			return ['--needs', 'fast'];
		}

		case 3: {
			return ['--after', String(idOfFirstJob()), '--priority', '-1'];
		}

		default: {
			return [];
		}
	}
};

// Most jobs nap 0–80 ms, every 10th one 0.3–0.8 s; then each exits with exitCodeOf(n).
const chaosJob = `#!/bin/sh
n=$1
echo "$n $JOB_ID" >> ledger.txt
if [ $((n % 10)) -eq 9 ]; then sleep 0.$((3 + n % 6)); else sleep 0.0$((n % 10)); fi
if [ $((n % 10)) -eq 3 ]; then exit $((3 + 10 * (n % 7))); fi
exit 0
`;

describe.each(slowDiskRuns)('chaos, disk writes delayed by up to %i ms', diskMs => {
	beforeEach(() => {
		slowDiskMs = diskMs;
	});

	it(`survives 25+ SIGKILLs of the scheduler while ${jobCount} jobs run: no duplicate, no loss, true exit codes`, async () => {
		const wallStart = Date.now();
		// Only a guard against a hang: the kills go on until their target, however slow the machine is at starting schedulers.
		const chaosBudgetMs = 240_000;
		const targetKills = 25;
		sandbox.script('job.sh', chaosJob);

		/** Job id → n, from what add-job printed (its ids, one a line, in the order of the arguments). */
		const jobArg = new Map<number, number>();
		const addJobs = async (flags: string[], numbers: number[]) => {
			if (numbers.length === 0) return;
			const result = await sandbox.run(['add-job', '--each', ...flags, './job.sh', ...numbers.map(String)]);
			expect(result.exitCode, result.stderr).toBe(0);
			const ids = result.stdout.trim().split('\n').map(Number);
			expect(ids).toHaveLength(numbers.length);
			for (const [index, id] of ids.entries()) jobArg.set(id, numbers[index]!);
		};

		// The jobs go in in batches over the first cycles, so the queue grows while the chaos has begun.
		const numbers = Array.from({length: jobCount}, (_, index) => index + 1);
		const batches = [0, 1, 2, 3].map(batch => numbers.slice(batch * jobCount / 4, (batch + 1) * jobCount / 4));
		let batchesAdded = 0;

		/** The share of the expected runs finished, from the history file (read directly: cheap). */
		const progress = () => {
			const runsPerJob = countBy(readCompleteJsonLines<{id: number}>(join(sandbox.dataDir, 'history.jsonl')).map(run => run.id));
			let expected = 0;
			let finished = 0;
			for (const n of numbers) expected += expectedRuns(n);
			for (const [id, n] of jobArg) finished += Math.min(runsPerJob.get(id) ?? 0, expectedRuns(n));
			return finished / expected;
		};
		const allDone = () => batchesAdded === batches.length && progress() === 1;

		let kills = 0;
		let killsBeforeAnswer = 0;
		const schedulerPids: number[] = [];
		// Once every batch is in and the kills reach their target, the chaos is done: the last scheduler finishes the work.
		// (Killing on until every job has run made the kill count depend on the machine's speed, and the test long.)
		while (Date.now() - wallStart < chaosBudgetMs && !allDone() && !(batchesAdded === batches.length && kills >= targetKills)) {
			// Two cycles in five (once every job is in) kill a scheduler that may not have answered yet: mid-start, lock take-over, adoption.
			if (batchesAdded === batches.length && random() < 0.4) {
				const child = execa('node', [cliPath, 'start', '--headless', '--data-dir', sandbox.dataDir, '--log-dir', sandbox.logDir], {
					cwd: sandbox.dir, env: schedulerEnv(), reject: false, stdin: 'ignore', all: true,
				});
				rawSchedulers.push(child);
				// Set by the output handler: `as boolean` keeps the type checker from taking it for always false.
				let answered = false as boolean;
				child.all.on('data', (chunk: Buffer) => {
					if (String(chunk).includes('scheduler running on')) answered = true;
				});
				schedulerPids.push(child.pid!);
				await sleep(between(0, 400));
				child.kill('SIGKILL');
				await child;
				kills++;
				if (!answered) killsBeforeAnswer++;
				continue;
			}

			const scheduler = await startScheduler();
			const pid = scheduler.process.pid!;
			schedulerPids.push(pid);
			// It is the real scheduler process we kill, not a wrapper around it.
			expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([cliPath, 'start', '--headless']));
			// The workers, added once, by the first scheduler.
			const workersAdded = kills === 0
				? [await sandbox.run(['add-worker', '--skip-ssh-check', ...Array.from({length: 6}, (_, index) => `local-${index + 1}`)]), await sandbox.run(['add-worker', '--skip-ssh-check', '--tag', 'fast', 'local-7', 'local-8'])]
				: [];
			expect(workersAdded.filter(result => result.exitCode !== 0)).toEqual([]);

			if (batchesAdded < batches.length) {
				const batch = batches[batchesAdded]!;
				const flags = batchFlags(batchesAdded, () => [...jobArg].find(([, n]) => n === 1)![0]);
				await Promise.all([addJobs([...failingJobFlags, ...flags], batch.filter(n => isFailing(n))), addJobs(flags, batch.filter(n => !isFailing(n)))]);
				batchesAdded++;
			}

			// On a fast machine the jobs could all be done before 25 kills: when the work is ahead of the kills, shorter lives.
			await sleep(progress() > kills / targetKills ? between(50, 250) : between(50, 700));
			scheduler.process.kill('SIGKILL');
			await scheduler.process;
			kills++;
		}

		// The last scheduler is left alone to finish everything, then stopped cleanly.
		const final = await startScheduler();
		schedulerPids.push(final.process.pid!);
		await waitForStatus(sandbox, view => view.queue.length === 0 && view.running.length === 0, 120_000);
		await final.stop();
		expect(final.process.exitCode).toBe(0);

		const view = await fullStatus(sandbox);
		const ledger = readLedger(sandbox);
		const wallSeconds = (Date.now() - wallStart) / 1000;
		const figures = tally(view, ledger, jobArg, expectedRuns, exitCodeOf);
		console.log(`chaos (seed ${seed}${slowDiskMs > 0 ? `, slow disk 0–${slowDiskMs} ms` : ''}): ${kills} SIGKILLs survived (${killsBeforeAnswer} before the scheduler answered), `
			+ `${jobArg.size} jobs, ${view.finished.length} runs, ${ledger.length} ledger lines, `
			+ `${figures.duplicates} duplicates, ${figures.losses} losses, ${figures.wrongExits} wrong exit codes, wall ${wallSeconds.toFixed(1)} s`);

		expect(kills).toBeGreaterThanOrEqual(targetKills);
		expect(jobArg.size).toBe(jobCount);
		expect(new Set(jobArg.values()).size).toBe(jobCount);
		expectExactlyOnce(view, ledger, jobArg, expectedRuns, exitCodeOf);
		expect(figures).toEqual({duplicates: 0, losses: 0, wrongExits: 0});
		// The jobs that need `fast` ran only where it is, whichever scheduler started them.
		const needFast = new Set(batches[2]);
		expect(view.finished.filter(run => needFast.has(Number(run.args[0])) && !['local-7', 'local-8'].includes(run.worker))).toEqual([]);

		// Nothing is left behind: no scheduler, no lock, no socket, no job process.
		expect(view.scheduler.running).toBe(false);
		expect(schedulerPids.filter(pid => isAlive(pid))).toEqual([]);
		expect(schedulersOn(sandbox)).toEqual([]);
		expect(jobProcessesIn(sandbox)).toEqual([]);
		expect(existsSync(join(sandbox.dataDir, 'scheduler.lock'))).toBe(false);
		expect(existsSync(join(sandbox.dataDir, 'control.sock'))).toBe(false);
	}, 420_000);
});

describe('many clients at once', () => {
	const clientCount = 50;
	const recordJob = '#!/bin/sh\necho "$1 $JOB_ID" >> ledger.txt\nsleep 0.1\n';
	const argsOfClient = (client: number) => ['a', 'b', 'c'].map(letter => `client${client}-${letter}`);

	it(`${clientCount} add-job clients at once: every job they were told about runs exactly once, nothing else runs`, async () => {
		sandbox.script('record.sh', recordJob);
		const scheduler = await startScheduler();
		expect((await sandbox.run(['add-worker', '--skip-ssh-check', 'w1', 'w2', 'w3', 'w4'])).exitCode).toBe(0);

		const clients = await Promise.all(Array.from({length: clientCount}, async (_, client) =>
			sandbox.run(['add-job', '--each', './record.sh', ...argsOfClient(client)])));
		expect(clients.filter(result => result.exitCode !== 0).map(result => result.stderr)).toEqual([]);
		const {acknowledged, acknowledgedIds} = acknowledgedJobs(clients, argsOfClient);
		expect(acknowledgedIds).toHaveLength(clientCount * 3);
		expect(new Set(acknowledgedIds).size).toBe(clientCount * 3);

		await waitForStatus(sandbox, view => view.queue.length === 0 && view.running.length === 0, 60_000);
		// A clean stop first: a run that has just ended may not be in the history file yet.
		await scheduler.stop();
		const view = await fullStatus(sandbox);
		const ledger = readLedger(sandbox);
		console.log(`${clientCount} concurrent clients: ${acknowledgedIds.length} jobs acknowledged, ${view.finished.length} runs, ${ledger.length} ledger lines`);
		expectEachRanOnce(view, ledger, acknowledged);
		expect(view.finished).toHaveLength(clientCount * 3);
		expect(ledger).toHaveLength(clientCount * 3);
	}, 120_000);

	it(`${clientCount} add-job clients while the scheduler is SIGKILLed: every acknowledged job survives and runs once, none runs twice`, async () => {
		sandbox.script('record.sh', recordJob);
		let scheduler: SchedulerProcess = await startScheduler();
		expect((await sandbox.run(['add-worker', '--skip-ssh-check', 'w1', 'w2', 'w3', 'w4'])).exitCode).toBe(0);

		let settled = 0;
		const clientsDone = Promise.all(Array.from({length: clientCount}, async (_, client) => {
			const result = await sandbox.run(['add-job', '--each', './record.sh', ...argsOfClient(client)]);
			settled++;
			return result;
		}));
		// Kill while clients are still on their way: once a few have their answer, and again further on.
		let kills = 0;
		for (const killWhenSettled of [between(2, 12), between(20, 35)]) {
			await waitFor(() => settled >= killWhenSettled, 60_000, `${killWhenSettled} clients to finish`);
			scheduler.process.kill('SIGKILL');
			await scheduler.process;
			kills++;
			scheduler = await startScheduler();
		}

		const clients = await clientsDone;
		const {acknowledged, acknowledgedIds} = acknowledgedJobs(clients, argsOfClient);
		const failedClients = clients.filter(result => result.exitCode !== 0);
		// Acknowledged means saved: all of them are in the restarted scheduler's state (queued, running or finished;
		// polled, because a run that has just ended can be in neither `running` nor the history file for a moment).
		let unknown: number[] = [];
		await waitFor(async () => {
			const afterRestart = await fullStatus(sandbox);
			const known = new Set([...afterRestart.queue.map(job => job.id), ...afterRestart.running.map(run => run.id), ...afterRestart.finished.map(run => run.id)]);
			unknown = acknowledgedIds.filter(id => !known.has(id));
			return unknown.length === 0;
		}, undefined, 'every acknowledged job in the state').catch(() => undefined);
		expect(unknown, 'acknowledged jobs missing from the state after the restart').toEqual([]);
		expect(new Set(acknowledgedIds).size).toBe(acknowledgedIds.length);

		await waitForStatus(sandbox, view => view.queue.length === 0 && view.running.length === 0, 60_000);
		// A clean stop first: a run that has just ended may not be in the history file yet.
		await scheduler.stop();
		const view = await fullStatus(sandbox);
		const ledger = readLedger(sandbox);
		console.log(`${clientCount} clients through ${kills} SIGKILLs: ${clientCount - failedClients.length} acknowledged (${acknowledgedIds.length} jobs), `
			+ `${failedClients.length} failed, ${view.finished.length} runs, ${ledger.length} ledger lines`);
		expect(acknowledgedIds.length).toBeGreaterThan(0);
		for (const result of failedClients) expect(result.stderr).toMatch(/^jobdeck: /);

		// The jobs of failed clients may or may not exist: whatever ran, ran once.
		const allArgs = new Map<number, string>(view.finished.map(run => [run.id, run.args[0]!]));
		expectEachRanOnce(view, ledger, allArgs);
		for (const [id, arg] of acknowledged) expect(allArgs.get(id), `acknowledged job ${id}`).toBe(arg);
		const ledgerArgs = ledger.map(line => line.arg);
		expect(ledgerArgs.filter((arg, index) => ledgerArgs.indexOf(arg) !== index)).toEqual([]);
	}, 120_000);
});

// Reading the outcome.

type LedgerLine = {arg: string; runId: number};

async function fullStatus(box: Sandbox): Promise<StatusView> {
	const result = await box.run(['status', '--json', '--finished', 'all']);
	if (result.exitCode !== 0) throw new Error(`status failed: ${result.stderr}`);
	return JSON.parse(result.stdout) as StatusView;
}

function readLedger(box: Sandbox): LedgerLine[] {
	const path = join(box.dir, 'ledger.txt');
	if (!existsSync(path)) return [];
	return readFileSync(path, 'utf8').split('\n').filter(line => line !== '').map(line => {
		const match = /^(\S+) (\d+)$/.exec(line);
		if (!match) throw new Error(`ledger line is damaged: ${JSON.stringify(line)}`);
		return {arg: match[1]!, runId: Number(match[2])};
	});
}

/** The complete lines of a JSON-lines file that is perhaps being appended to. */
function readCompleteJsonLines<T>(path: string): T[] {
	if (!existsSync(path)) return [];
	const text = readFileSync(path, 'utf8');
	return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(line => line !== '').map(line => JSON.parse(line) as T);
}

/** Counts what went wrong, for the figures printed (the expectations then say exactly what). */
function tally(view: StatusView, ledger: LedgerLine[], jobArg: Map<number, number>, runsOf: (n: number) => number, exitOf: (n: number) => number) {
	const historyRuns = countBy(view.finished.map(run => run.id));
	const ledgerRunsOfArg = countBy([...new Set(ledger.map(line => `${line.arg} ${line.runId}`))].map(key => key.split(' ')[0]!));
	const historyRunIds = new Set(view.finished.map(run => run.runId));
	const ledgerRunIds = new Set(ledger.map(line => line.runId));
	let duplicates = (ledger.length - ledgerRunIds.size) + (view.finished.length - historyRunIds.size);
	let losses = 0;
	for (const [id, n] of jobArg) {
		const ran = Math.max(historyRuns.get(id) ?? 0, ledgerRunsOfArg.get(String(n)) ?? 0);
		duplicates += Math.max(0, ran - runsOf(n));
		losses += Math.max(0, runsOf(n) - (historyRuns.get(id) ?? 0));
	}

	losses += [...historyRunIds].filter(runId => !ledgerRunIds.has(runId)).length;
	losses += [...ledgerRunIds].filter(runId => !historyRunIds.has(runId)).length;
	losses += view.queue.length + view.running.length;
	const wrongExits = view.finished.filter(run => run.exitCode !== exitOf(Number(run.args[0])) || run.signal !== null || run.outcome === 'lost').length;
	return {duplicates, losses, wrongExits};
}

/** The chaos test's verdict, item by item. */
function expectExactlyOnce(view: StatusView, ledger: LedgerLine[], jobArg: Map<number, number>, runsOf: (n: number) => number, exitOf: (n: number) => number): void {
	expect(view.queue).toEqual([]);
	expect(view.running).toEqual([]);
	// Every job has exactly its expected number of finished runs, and no other job ran.
	const historyRuns = countBy(view.finished.map(run => run.id));
	const wrongCounts = [...jobArg].filter(([id, n]) => historyRuns.get(id) !== runsOf(n)).map(([id, n]) => ({id, n, runs: historyRuns.get(id) ?? 0, expected: runsOf(n)}));
	expect(wrongCounts).toEqual([]);
	expect(view.finished.filter(run => !jobArg.has(run.id))).toEqual([]);
	// Every run has its true exit code and its job's argument.
	const wrongRuns = view.finished
		.filter(run => run.args[0] !== String(jobArg.get(run.id)) || run.exitCode !== exitOf(jobArg.get(run.id)!) || run.signal !== null
			|| run.outcome !== (exitOf(jobArg.get(run.id)!) === 0 ? 'succeeded' : 'failed'))
		.map(run => ({id: run.id, runId: run.runId, args: run.args, exitCode: run.exitCode, signal: run.signal, outcome: run.outcome}));
	expect(wrongRuns).toEqual([]);
	expectLedgerMatchesHistory(view, ledger);
}

/** For the client tests: `jobs` (id → argument) each finished exactly once and ran exactly once, and nothing else ran. */
function expectEachRanOnce(view: StatusView, ledger: LedgerLine[], jobs: Map<number, string>): void {
	expect(view.queue).toEqual([]);
	expect(view.running).toEqual([]);
	const historyRuns = countBy(view.finished.map(run => run.id));
	expect([...jobs.keys()].filter(id => historyRuns.get(id) !== 1).map(id => ({id, runs: historyRuns.get(id) ?? 0}))).toEqual([]);
	expect(view.finished.filter(run => !jobs.has(run.id) || run.args[0] !== jobs.get(run.id) || run.exitCode !== 0 || run.outcome !== 'succeeded')).toEqual([]);
	expectLedgerMatchesHistory(view, ledger);
}

/** One ledger line per run in the history, none without one, each with its run's argument. */
function expectLedgerMatchesHistory(view: StatusView, ledger: LedgerLine[]): void {
	const runIds = view.finished.map(run => run.runId);
	expect(runIds.filter((runId, index) => runIds.indexOf(runId) !== index), 'runIds recorded twice').toEqual([]);
	const ledgerRunIds = ledger.map(line => line.runId);
	expect(ledgerRunIds.filter((runId, index) => ledgerRunIds.indexOf(runId) !== index), 'runIds in the ledger twice').toEqual([]);
	const argOfRun = new Map(view.finished.map(run => [run.runId, run.args[0]]));
	expect(ledger.filter(line => !argOfRun.has(line.runId)), 'runs in the ledger but not in the history').toEqual([]);
	const ledgerSet = new Set(ledgerRunIds);
	expect(runIds.filter(runId => !ledgerSet.has(runId)), 'runs in the history but not in the ledger').toEqual([]);
	expect(ledger.filter(line => argOfRun.get(line.runId) !== line.arg), 'ledger lines whose argument is not their run\'s').toEqual([]);
}

/** Job id → argument for every client that exited 0, from the ids it printed (one a line, in the order of its arguments). */
function acknowledgedJobs(clients: Array<{exitCode: number; stdout: string}>, argsOfClient: (client: number) => string[]) {
	const acknowledged = new Map<number, string>();
	const acknowledgedIds: number[] = [];
	for (const [client, result] of clients.entries()) {
		if (result.exitCode !== 0) continue;
		const ids = result.stdout.trim().split('\n').map(Number);
		const args = argsOfClient(client);
		expect(ids, `ids printed by client ${client}`).toHaveLength(args.length);
		for (const [index, id] of ids.entries()) {
			acknowledgedIds.push(id);
			acknowledged.set(id, args[index]!);
		}
	}

	return {acknowledged, acknowledgedIds};
}

function countBy<T>(values: T[]): Map<T, number> {
	const counts = new Map<T, number>();
	for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
	return counts;
}

/** Pids of schedulers still running on this sandbox's data dir. */
function schedulersOn(box: Sandbox): number[] {
	return processesWhere(argv => argv.includes(cliPath) && argv.includes('start') && argv.includes(box.dataDir));
}

/** Pids of job wrappers (argv: sh -c SCRIPT jobdeck-job EXITFILE …) started in this sandbox. */
function jobProcessesIn(box: Sandbox): number[] {
	return processesWhere(argv => argv[3] === 'jobdeck-job' && Boolean(argv[4]?.startsWith(box.dir)));
}

function processesWhere(test: (argv: string[]) => boolean): number[] {
	const pids: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (test(readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')) && isAlive(Number(entry))) pids.push(Number(entry));
		} catch {
			// The process ended while the list was read.
		}
	}

	return pids;
}

/** A small seeded random number generator, so that a kill schedule can be replayed. */
function mulberry32(state: number): () => number {
	let a = state >>> 0;
	return () => {
		a = (a + 0x6D_2B_79_F5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}
