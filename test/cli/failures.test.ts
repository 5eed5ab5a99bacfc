import {readdirSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, createSandbox, eventIs, statusOf, waitFor, waitForStatus, type EventOf, type Sandbox, type StatusView} from '../helpers/jobdeck.js';

// What jobdeck does when jobs fail: retries, timeouts, workers that cannot be
// reached, and `jobdeck wait` for scripts, through a real headless scheduler.

let sandbox: Sandbox;

beforeEach(() => {
	sandbox = createSandbox();
});

afterEach(async () => {
	await sandbox.cleanup();
});

type Run = StatusView['finished'][number] & {attempt?: number; requeued?: string};

async function history(): Promise<Run[]> {
	const result = await sandbox.run(['status', '--json', '--finished', 'all']);
	expect(result.exitCode, result.stderr).toBe(0);
	return (JSON.parse(result.stdout) as StatusView).finished;
}

async function waitUntilDone(): Promise<Run[]> {
	await waitForStatus(sandbox, view => view.queue.length === 0 && view.running.length === 0);
	return history();
}

/** Fails until it has been run `$1` times (counted in a file named after `$2`), then succeeds. */
const failsAtFirst = `#!/bin/sh
count=$(cat "count.$2" 2>/dev/null || echo 0)
count=$((count + 1))
echo "$count" > "count.$2"
echo "attempt $count of $2, JOB_ID $JOB_ID"
[ "$count" -gt "$1" ] || exit 3
`;

describe('retries', () => {
	it('--retries runs a failed job again, each attempt with a fresh JOB_ID and log, all kept in the history', async () => {
		await sandbox.startScheduler();
		sandbox.script('flaky.sh', failsAtFirst);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const flaky = await addJob(sandbox, ['--retries', '3', './flaky.sh', '2', 'flaky']);
		const hopeless = await addJob(sandbox, ['--retries', '1', './flaky.sh', '99', 'hopeless']);
		const runs = await waitUntilDone();

		const flakyRuns = runs.filter(run => run.id === flaky);
		expect(flakyRuns.map(run => [run.attempt ?? 1, run.exitCode, run.outcome, run.requeued])).toEqual([
			[1, 3, 'failed', 'retry'],
			[2, 3, 'failed', 'retry'],
			[3, 0, 'succeeded', undefined],
		]);
		expect(new Set(flakyRuns.map(run => run.runId)).size).toBe(3);
		for (const [index, run] of flakyRuns.entries()) {
			expect(readFileSync(run.logFile, 'utf8')).toBe(`attempt ${index + 1} of flaky, JOB_ID ${run.runId}\n`);
		}

		// Out of retries: the last failure is final.
		expect(runs.filter(run => run.id === hopeless).map(run => [run.attempt ?? 1, run.outcome, run.requeued])).toEqual([
			[1, 'failed', 'retry'],
			[2, 'failed', undefined],
		]);
		const view = await statusOf(sandbox);
		expect(view.workers[0]).toMatchObject({jobsDone: 1, jobsFailed: 4});
	});

	it('--retry-delay holds the next attempt back, and `retry` starts a job afresh with its settings', async () => {
		await sandbox.startScheduler();
		sandbox.script('flaky.sh', failsAtFirst);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['--retries', '1', '--retry-delay', '1500ms', './flaky.sh', '5', 'slow']);
		let runs = await waitFor(async () => {
			const all = (await history()).filter(run => run.id === id);
			return all.length === 2 ? all : undefined;
		}, undefined, 'two attempts');
		// A lower bound only: the delay may be longer on a busy machine, never shorter.
		expect(runs[1]!.startedAt - runs[0]!.endedAt).toBeGreaterThanOrEqual(1500);
		expect(runs[1]).toMatchObject({outcome: 'failed', attempt: 2});
		expect(runs[1]!.requeued).toBeUndefined();

		// `retry` by hand: attempts count from 1 again, and the job keeps its --retries.
		expect(await sandbox.run(['retry', String(id)])).toMatchObject({exitCode: 0, stdout: `${id}\n`});
		runs = await waitFor(async () => {
			const all = (await history()).filter(run => run.id === id);
			return all.length === 4 ? all : undefined;
		}, undefined, 'two more attempts');
		expect(runs.slice(2).map(run => [run.attempt ?? 1, run.requeued])).toEqual([[1, 'retry'], [2, undefined]]);
	});

	it('a retry waiting for the scheduler survives a restart', async () => {
		const scheduler = await sandbox.startScheduler();
		// Held until released, so that the queue can be paused first: then the retry waits however slow the stop is.
		sandbox.script('flaky.sh', failsAtFirst.replace('#!/bin/sh\n', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\n'));
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['--retries', '2', '--retry-delay', '1s', './flaky.sh', '1', 'restart']);
		await waitForStatus(sandbox, view => view.running.some(run => run.id === id));
		expect(await sandbox.run(['pause'])).toMatchObject({exitCode: 0});
		writeFileSync(join(sandbox.dir, 'release'), '');
		await waitFor(async () => (await history()).some(run => run.id === id), undefined, 'the first attempt');
		await scheduler.stop();
		const saved = await statusOf(sandbox);
		expect(saved.queue.map(job => [job.id, (job as {attempt?: number}).attempt])).toEqual([[id, 2]]);
		await sandbox.startScheduler();
		expect(await sandbox.run(['resume'])).toMatchObject({exitCode: 0});
		const runs = (await waitUntilDone()).filter(run => run.id === id);
		expect(runs.map(run => [run.attempt ?? 1, run.outcome])).toEqual([[1, 'failed'], [2, 'succeeded']]);
		// The restarted scheduler kept the delay too (by its own record of the times).
		expect(runs[1]!.startedAt - runs[0]!.endedAt).toBeGreaterThanOrEqual(1000);
	});
});

describe('timeouts', () => {
	it('--timeout cancels a run that takes too long (its whole group) and records it as timed out; a retry follows', async () => {
		const scheduler = await sandbox.startScheduler();
		sandbox.script('slow.sh', '#!/bin/sh\necho "started $JOB_ID"\nsleep 600 &\necho $! > "child.$JOB_ID"\nwait\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['--timeout', '1s', '--retries', '1', './slow.sh']);
		const runs = await waitFor(async () => {
			const all = (await history()).filter(run => run.id === id);
			return all.length === 2 ? all : undefined;
		}, undefined, 'two timed-out attempts');
		for (const run of runs) {
			expect(run).toMatchObject({outcome: 'timed-out', signal: 'SIGTERM', exitCode: null});
			const took = run.endedAt - run.startedAt;
			expect(took).toBeGreaterThanOrEqual(1000);
			// The whole process group went, the background sleep too.
			const child = Number(readFileSync(join(sandbox.dir, `child.${run.runId}`), 'utf8'));
			await waitFor(() => !isRunning(child), undefined, `the sleep of JOB_ID ${run.runId} to end`);
		}

		expect(runs.map(run => run.requeued)).toEqual(['retry', undefined]);
		await scheduler.waitForOutput(new RegExp(`finished job ${id} on w1 \\(JOB_ID ${runs[1]!.runId}\\): timed out \\(SIGTERM\\)`));
		const status = await sandbox.run(['status']);
		expect(status.stdout).toMatch(/timed out \(SIGTERM\), retrying/);
	});

	it('a job that ends in time is not touched, and a timeout survives a restart of the scheduler', async () => {
		const scheduler = await sandbox.startScheduler();
		sandbox.script('sleep.sh', '#!/bin/sh\nsleep "$1"\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
		const quick = await addJob(sandbox, ['--timeout', '20s', './sleep.sh', '0.2']);
		const slow = await addJob(sandbox, ['--timeout', '6s', './sleep.sh', '600']);
		// Stopped as soon as the scheduler says the job started (its own output, not a status command that
		// may take seconds on a busy machine): the timeout must still be ahead when the scheduler goes.
		await scheduler.waitForOutput(new RegExp(`started job ${slow} `));
		await scheduler.stop();
		expect((await statusOf(sandbox)).running.map(run => run.id), 'the slow job still running when the scheduler stopped').toContain(slow);
		await sandbox.startScheduler();
		const runs = await waitUntilDone();
		expect(runs.find(run => run.id === quick)).toMatchObject({outcome: 'succeeded'});
		const slowRun = runs.find(run => run.id === slow)!;
		expect(slowRun).toMatchObject({outcome: 'timed-out', signal: 'SIGTERM'});
		expect(slowRun.endedAt - slowRun.startedAt).toBeGreaterThanOrEqual(6000);
	});
});

describe('unreachable workers', () => {
	/** Exits with ssh's "could not connect" status on the worker named bad, and works elsewhere. */
	const reachScript = '#!/bin/sh\nif [ "$WORKER" = bad ]; then echo "ssh: connect to host bad: Connection refused" >&2; exit 255; fi\necho "$1" >> done.txt\n';

	it('a worker whose runs keep ending with 255 goes offline; its jobs go back to the queue without spending a retry', async () => {
		const scheduler = await sandbox.startScheduler(['--recheck-offline', '1s']);
		sandbox.script('reach.sh', reachScript);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'bad']);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'good']);
		const ids = (await sandbox.run(['add-job', '--each', './reach.sh', ...Array.from({length: 12}, (_unused, index) => `file-${index}`)])).stdout.trim().split('\n').map(Number);
		await scheduler.waitForOutput(/worker bad is offline: 3 runs in a row ended with exit 255; next check in 1s/);
		const runs = await waitUntilDone();

		// Every job was done once, on the good worker, though none had a retry.
		const done = readFileSync(join(sandbox.dir, 'done.txt'), 'utf8').trim().split('\n').sort();
		expect(done).toEqual(Array.from({length: 12}, (_unused, index) => `file-${index}`).sort());
		for (const id of ids) {
			const final = runs.findLast(run => run.id === id)!;
			expect(final).toMatchObject({worker: 'good', outcome: 'succeeded'});
		}

		// What bad took, it failed with 255, and each of those jobs went back to the queue.
		const badRuns = runs.filter(run => run.worker === 'bad');
		expect(badRuns.length).toBeGreaterThanOrEqual(3);
		for (const run of badRuns) expect(run).toMatchObject({exitCode: 255, outcome: 'failed', requeued: 'worker-unreachable'});
		const view = await statusOf(sandbox);
		expect(view.workers.find(worker => worker.name === 'good')).toMatchObject({jobsFailed: 0, jobsDone: 12});
	});

	it('an offline worker added without the ssh check gets one job to prove itself after each wait, the wait doubling each time', async () => {
		const scheduler = await sandbox.startScheduler(['--json', '--recheck-offline', '1s', '--offline-after', '2']);
		// Unreachable for its first three runs, then fine: two runs take it offline, the first job on probation fails, the second works.
		sandbox.script('reach.sh', '#!/bin/sh\nruns=$(($(cat runs 2>/dev/null || echo 0) + 1))\necho $runs > runs\nif [ $runs -le 3 ]; then exit 255; fi\necho "$1" >> done.txt\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'bad']);
		await sandbox.run(['add-job', '--each', './reach.sh', 'a', 'b']);
		const runs = await waitUntilDone();
		expect(readFileSync(join(sandbox.dir, 'done.txt'), 'utf8').trim().split('\n').sort()).toEqual(['a', 'b']);
		expect(runs.map(run => [run.exitCode, run.requeued])).toEqual([[255, 'worker-unreachable'], [255, 'worker-unreachable'], [255, 'worker-unreachable'], [0, undefined], [0, undefined]]);

		// What the scheduler recorded: offline for 1 s, one job on probation, which fails: offline for 2 s, one more job, which works.
		const health = scheduler.events().filter(event => event.type === 'worker-offline' || event.type === 'worker-online');
		expect(health.map(event => event.type === 'worker-online' ? event.how : `offline after ${event.runs}, wait ${event.nextCheckAt - event.at}`))
			.toEqual(['offline after 2, wait 1000', 'probation', 'offline after 2, wait 2000', 'probation']);
		const [firstOffline, firstProbation, secondOffline, secondProbation] = health;
		expect(firstProbation!.at, 'the first probation came when due').toBeGreaterThanOrEqual((firstOffline as EventOf<'worker-offline'>).nextCheckAt);
		expect(secondProbation!.at, 'the second probation came when due').toBeGreaterThanOrEqual((secondOffline as EventOf<'worker-offline'>).nextCheckAt);
		// Each probation is one job: the third run starts after the first, the fourth after the second.
		expect(runs[2]!.startedAt).toBeGreaterThanOrEqual(firstProbation!.at);
		expect(runs[2]!.startedAt).toBeLessThan(secondOffline!.at);
		expect(runs[3]!.startedAt).toBeGreaterThanOrEqual(secondProbation!.at);
		expect((await statusOf(sandbox)).workers[0]).toMatchObject({state: 'idle', unreachableStreak: 0});
	});

	it('`enable` brings an offline worker back at once, long before its re-check', async () => {
		// The first re-check would come in ten minutes: only `enable` can bring it back within this test.
		const scheduler = await sandbox.startScheduler(['--json', '--recheck-offline', '10m', '--offline-after', '2']);
		sandbox.script('reach.sh', reachScript);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'bad']);
		await sandbox.run(['add-job', '--each', './reach.sh', 'a', 'b']);
		const offline = await scheduler.waitForEvents(events => events.find(eventIs('worker-offline', 'bad')), 'bad to go offline');
		expect(offline.nextCheckAt - offline.at).toBe(600_000);
		expect((await statusOf(sandbox)).workers[0]!.state).toBe('offline');

		// A worker that is fine again: the user vouches for it, and the queue drains on it.
		sandbox.script('reach.sh', reachScript.replace('= bad', '= nobody'));
		expect(await sandbox.run(['enable', 'bad'])).toMatchObject({exitCode: 0});
		const online = await scheduler.waitForEvents(events => events.find(eventIs('worker-online', 'bad')), 'bad back online');
		expect(online.how).toBe('enabled');
		const runs = await waitUntilDone();
		expect(readFileSync(join(sandbox.dir, 'done.txt'), 'utf8').trim().split('\n').sort()).toEqual(['a', 'b']);
		expect(runs.filter(run => run.outcome === 'succeeded').length).toBe(2);
		expect((await statusOf(sandbox)).workers[0]).toMatchObject({state: 'idle', unreachableStreak: 0});
	});

	it('a job that itself exits 255 everywhere is not requeued forever: after 3 free requeues its failure is its own', async () => {
		await sandbox.startScheduler(['--offline-after', '10']);
		sandbox.script('ssh-fails.sh', '#!/bin/sh\nexit 255\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./ssh-fails.sh']);
		const runs = (await waitUntilDone()).filter(run => run.id === id);
		expect(runs.map(run => run.requeued)).toEqual(['worker-unreachable', 'worker-unreachable', 'worker-unreachable', undefined]);
	});

	it('--offline-after 0 turns the rule off: 255 is a failure like any other', async () => {
		await sandbox.startScheduler(['--offline-after', '0']);
		sandbox.script('ssh-fails.sh', '#!/bin/sh\nexit 255\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./ssh-fails.sh']);
		const runs = (await waitUntilDone()).filter(run => run.id === id);
		expect(runs.map(run => [run.exitCode, run.outcome, run.requeued])).toEqual([[255, 'failed', undefined]]);
		expect((await statusOf(sandbox)).workers[0]!.state).toBe('idle');
	});
});

describe('wait', () => {
	it('blocks until the jobs are done; exit 0 when all succeeded, 1 with a line per job that did not', async () => {
		await sandbox.startScheduler();
		sandbox.script('job.sh', '#!/bin/sh\nsleep "$1"\nexit "$2"\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
		const ok = await addJob(sandbox, ['./job.sh', '0.5', '0']);
		const bad = await addJob(sandbox, ['./job.sh', '0.3', '4']);
		expect(await sandbox.run(['wait', String(ok)])).toMatchObject({exitCode: 0, stdout: '', stderr: ''});
		const waitedUntil = Date.now();
		// It returned once the job had ended (the scheduler's record of the end comes before), not before.
		const okRun = (await history()).find(run => run.id === ok);
		expect(okRun).toMatchObject({outcome: 'succeeded'});
		expect(okRun!.endedAt).toBeLessThanOrEqual(waitedUntil);

		const both = await sandbox.run(['wait', String(ok), String(bad)]);
		expect(both.exitCode).toBe(1);
		expect(both.stderr).toMatch(new RegExp(`^job ${bad}: exit 4 on w1 \\(JOB_ID \\d+\\)\\n$`));
	});

	it('without ids, waits for everything queued and running, retries included', async () => {
		const scheduler = await sandbox.startScheduler();
		sandbox.script('flaky.sh', failsAtFirst);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		await sandbox.run(['pause']);
		await sandbox.run(['add-job', '--retries', '2', '--each', './flaky.sh', '1']);
		await sandbox.run(['add-job', '--retries', '1', './flaky.sh', '5', 'never']);
		// Resume only once `wait` is connected, so that it sees the paused queue.
		const connections = () => socketsOf(scheduler.process.pid!);
		const before = connections();
		const waiting = sandbox.run(['wait']);
		await waitFor(() => connections() > before || undefined, undefined, () => `the wait client to connect (${connections()} sockets, ${before} before)`);
		await sandbox.run(['resume']);
		const result = await waiting;
		expect(result.exitCode).toBe(1);
		const [note, failure, ...rest] = result.stderr.trim().split('\n');
		expect(note).toBe('jobdeck: note: the scheduler is paused; jobs start again after `jobdeck resume`');
		expect(failure).toMatch(/^job \d+: exit 3 on w1/);
		expect(rest).toEqual([]);
		const view = await statusOf(sandbox);
		expect([view.queue.length, view.running.length]).toEqual([0, 0]);
		expect((await history()).length).toBe(4);
	});

	it('refuses an unknown id, and says so when the scheduler stops while it waits', async () => {
		const scheduler = await sandbox.startScheduler();
		expect(await sandbox.run(['wait', '4242'])).toMatchObject({exitCode: 1, stderr: 'jobdeck: job 4242 is not known: it is not queued or running and has never run here\n'});
		sandbox.script('job.sh', '#!/bin/sh\nsleep 600\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./job.sh']);
		await waitForStatus(sandbox, view => view.running.length === 1);
		// Stop only once `wait` is connected: before that it would rightly say that no scheduler runs.
		const connections = () => socketsOf(scheduler.process.pid!);
		const before = connections();
		const waiting = sandbox.run(['wait', String(id)]);
		await waitFor(() => connections() > before || undefined, undefined, 'the wait client to connect');
		await sandbox.run(['status']);
		await scheduler.stop();
		expect(await waiting).toMatchObject({exitCode: 1, stderr: 'jobdeck: the scheduler stopped before the jobs were done\n'});
	});
});

/** The scheduler's open sockets: its listening one and one per client connected. */
function socketsOf(pid: number): number {
	return readdirSync(`/proc/${pid}/fd`).filter(fd => {
		try {
			return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
		} catch {
			return false;
		}
	}).length;
}

function isRunning(pid: number): boolean {
	try {
		return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return false;
	}
}
