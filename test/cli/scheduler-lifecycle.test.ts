import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {execa} from 'execa';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, cliPath, createSandbox, isAlive, statusOf, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// Starting, stopping and restarting a real scheduler process: jobs outlive it
// and the next start adopts them, records their true exit codes, and never
// runs anything twice.

let sandbox: Sandbox;

beforeEach(() => {
	sandbox = createSandbox();
});

afterEach(async () => {
	await sandbox.cleanup();
});

describe('start --headless', () => {
	it('prints one line per event, and JSON lines with --json', async () => {
		sandbox.script('job.sh', '#!/bin/sh\nexit 3\n');
		const scheduler = await sandbox.startScheduler(['--json']);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./job.sh']);
		await scheduler.waitForOutput(/"type":"job-finished"/);
		await sandbox.run(['remove-worker', 'w1']);
		await scheduler.waitForOutput(/"type":"worker-removed"/);
		const events = scheduler.output().trim().split('\n').map(line => JSON.parse(line) as {type: string; run?: {id: number; exitCode: number}});
		expect(events.map(event => event.type)).toEqual(['started', 'workers-added', 'jobs-queued', 'job-started', 'job-finished', 'worker-updated', 'worker-removed']);
		expect(events.find(event => event.type === 'job-finished')!.run).toMatchObject({id, exitCode: 3});
	});

	it.each(['SIGTERM', 'SIGINT'] as const)('stops cleanly on %s and leaves its socket and lock behind it removed', async signal => {
		const scheduler = await sandbox.startScheduler();
		scheduler.process.kill(signal);
		const result = await scheduler.process;
		expect(result.exitCode).toBe(0);
		expect(scheduler.output()).toMatch(/stopping; running jobs keep running/);
		expect(() => readFileSync(join(sandbox.dataDir, 'control.sock'))).toThrow(/ENOENT/);
		expect(() => readFileSync(join(sandbox.dataDir, 'scheduler.lock'))).toThrow(/ENOENT/);
	});

	it('refuses a second scheduler on the same data dir, and takes over the lock of one that was SIGKILLed', async () => {
		const first = await sandbox.startScheduler();
		const second = await execa('node', [cliPath, 'start', '--headless', '--data-dir', sandbox.dataDir], {cwd: sandbox.dir, reject: false, timeout: 60_000});
		expect(second.exitCode).not.toBe(0);
		expect(second.stderr).toMatch(new RegExp(`a scheduler \\(pid ${first.process.pid}\\) is already running on ${sandbox.dataDir}`));
		first.process.kill('SIGKILL');
		await first.process;
		// Lock and socket are still there, but their owner is gone.
		expect(readFileSync(join(sandbox.dataDir, 'scheduler.lock'), 'utf8')).toContain(String(first.process.pid));
		await sandbox.startScheduler();
		expect((await statusOf(sandbox)).scheduler.running).toBe(true);
	});

	it('tells a client command with no scheduler how to start one, in one line', async () => {
		const result = await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		expect(result.exitCode).not.toBe(0);
		expect(result.stderr.trim()).toBe(`jobdeck: no scheduler is running on ${sandbox.dataDir}: start one with \`jobdeck start --data-dir ${sandbox.dataDir}\``);
	});
});

describe('stop and start again', () => {
	it('keeps jobs running through a stop and records each exactly once with its true exit code', async () => {
		// Each job appends its JOB_ID to a ledger, waits for its release file, then exits with the code it was given.
		sandbox.script('held.sh', '#!/bin/sh\necho "$JOB_ID" >> ledger.txt\nwhile [ ! -e "release.$1" ]; do sleep 0.05; done\nexit "$2"\n');
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '4', 'w1']);
		const jobs = [['a', '0'], ['b', '5'], ['c', '0'], ['d', '9'], ['e', '0'], ['f', '3']];
		for (const [name, code] of jobs) await addJob(sandbox, ['./held.sh', name!, code!]);
		const before = await waitForStatus(sandbox, view => view.running.length === 4 && view.running.every(run => run.pid !== undefined));
		const pids = before.running.map(run => run.pid!);

		expect((await sandbox.run(['stop'])).exitCode).toBe(0);
		await waitFor(async () => !(await statusOf(sandbox)).scheduler.running);
		expect(pids.every(pid => isAlive(pid))).toBe(true);

		// While no scheduler runs, two jobs end.
		writeFileSync(join(sandbox.dir, 'release.a'), '');
		writeFileSync(join(sandbox.dir, 'release.b'), '');
		await waitFor(() => pids.filter(pid => isAlive(pid)).length === 2, undefined, 'two jobs to end while the scheduler is down');
		const offline = await statusOf(sandbox);
		expect(offline.scheduler.running).toBe(false);
		expect(offline.running).toHaveLength(4);

		await sandbox.startScheduler();
		for (const name of ['c', 'd', 'e', 'f']) writeFileSync(join(sandbox.dir, `release.${name}`), '');
		const after = await waitForStatus(sandbox, view => view.finished.length === 6 && view.running.length === 0);
		const exitByArg = Object.fromEntries(after.finished.map(run => [run.args[0], run.exitCode]));
		expect(exitByArg).toEqual({a: 0, b: 5, c: 0, d: 9, e: 0, f: 3});
		const ledger = readFileSync(join(sandbox.dir, 'ledger.txt'), 'utf8').trim().split('\n');
		expect(ledger).toHaveLength(6);
		expect(new Set(ledger).size).toBe(6);
		expect(after.workers[0]).toMatchObject({jobsDone: 3, jobsFailed: 3, state: 'idle'});
		const history = readFileSync(join(sandbox.dataDir, 'history.jsonl'), 'utf8').trim().split('\n');
		expect(history).toHaveLength(6);
	});

	it('does not mistake a recycled pid for a job that ended while the scheduler was down', async () => {
		sandbox.script('quick.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\nexit 4\n');
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./quick.sh']);
		const running = await waitForStatus(sandbox, view => view.running.some(run => run.pid !== undefined));
		await sandbox.run(['stop']);
		await waitFor(async () => !(await statusOf(sandbox)).scheduler.running);
		writeFileSync(join(sandbox.dir, 'release'), '');
		await waitFor(() => !isAlive(running.running[0]!.pid!));

		// Point the saved run at a live process that is somebody else's: this test runner itself.
		const statePath = join(sandbox.dataDir, 'state.json');
		const state = JSON.parse(readFileSync(statePath, 'utf8')) as {running: Array<{pid: number}>};
		state.running[0]!.pid = process.pid;
		writeFileSync(statePath, JSON.stringify(state));

		await sandbox.startScheduler();
		const after = await waitForStatus(sandbox, view => view.finished.some(run => run.id === id));
		expect(after.finished[0]).toMatchObject({id, exitCode: 4, outcome: 'failed'});
	});
});
