import {spawnSync} from 'node:child_process';
import {mkdirSync, readdirSync, rmSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import type {SchedulerEvent} from '../../source/core/scheduler.js';
import {createSandbox, statusOf, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';
import {mountFullTmpfs, tmpfsOrSayWhy} from '../helpers/tmpfs.js';

// Issue 25, point 2: when jobdeck cannot make a job's log, the fault is the
// scheduler's, not the job's. The job did not start and did not fail: it goes
// back to the queue with no retry used, and handing out jobs pauses (with a
// reason that status and an event give) until a re-check can write there.

let sandbox: Sandbox;

beforeEach(() => {
	sandbox = createSandbox();
});

afterEach(async () => {
	await sandbox.cleanup();
});

type FinishedView = {id: number; exitCode: number | null; outcome: string; attempt?: number; runId: number};

it('rm -rf of the log dir with 20 jobs queued (--retries 2): the log dir is made again, and every job succeeds at its first attempt', async () => {
	const scheduler = await sandbox.startScheduler(['--json']);
	sandbox.script('job.sh', '#!/bin/sh\necho "job $1"\n');
	await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '4', 'w1']);
	await sandbox.run(['pause']);
	const added = await sandbox.run(['add-job', '--retries', '2', '--each', './job.sh', ...Array.from({length: 20}, (_unused, index) => String(index))]);
	expect(added.exitCode, added.stderr).toBe(0);
	rmSync(sandbox.logDir, {recursive: true, force: true});
	await sandbox.run(['resume']);

	const done = await waitForStatus(sandbox, view => view.queue.length === 0 && view.running.length === 0 && view.finished.length >= 20, 120_000);
	const runs = done.finished as unknown as FinishedView[];
	expect(runs.map(run => [run.id, run.exitCode, run.outcome]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(Array.from({length: 20}, (_unused, index) => [index + 1, 0, 'succeeded']));
	// No retry was used: each job's one recorded run is its first attempt.
	expect(runs.every(run => (run.attempt ?? 1) === 1)).toBe(true);
	expect(statSync(sandbox.logDir).mode & 0o777).toBe(0o700);
	const abandoned = scheduler.events().filter(event => event.type === 'run-abandoned');
	expect(abandoned.length, scheduler.output()).toBeGreaterThan(0);
	expect(scheduler.output()).toMatch(/the log dir .* was gone: made it again/);
	// Each job's log is there, with its output.
	for (const run of runs) expect(readdirSync(sandbox.logDir)).toContain(`job_${run.runId}.txt`);
});

it('a job whose script cannot be run is still the job\'s own failure (exit 126), not a fault', async () => {
	await sandbox.startScheduler();
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
	sandbox.script('ok.sh', '#!/bin/sh\nexit 0\n');
	await sandbox.run(['pause']);
	const added = await sandbox.run(['add-job', './ok.sh']);
	expect(added.exitCode, added.stderr).toBe(0);
	// Made not executable after the add-job check: it fails at exec, in the wrapper.
	spawnSync('chmod', ['-x', join(sandbox.dir, 'ok.sh')]);
	await sandbox.run(['resume']);
	const done = await waitForStatus(sandbox, view => view.finished.length === 1);
	const [run] = done.finished;
	expect([run?.exitCode, run?.outcome]).toEqual([126, 'failed']);
	expect((await statusOf(sandbox) as unknown as {scheduler: {faults: unknown[]}}).scheduler.faults).toEqual([]);
});

// A log dir out of inodes needs a small file system of its own: a tmpfs, which only root may mount.
const mountCheck = tmpfsOrSayWhy('the log-dir-out-of-inodes tests');

describe.skipIf(!mountCheck.ok)('a log dir out of inodes', () => {
	let mounted = false;
	let fillers: string[] = [];

	beforeEach(() => {
		mkdirSync(sandbox.logDir);
		mounted = true;
		fillers = mountFullTmpfs(sandbox.logDir, 8);
	});

	afterEach(() => {
		if (mounted) spawnSync('umount', ['-l', sandbox.logDir]);
		mounted = false;
	});

	it('the jobs wait, status and an event say why, and once inodes are freed they run and succeed, no retry used', async () => {
		const scheduler = await sandbox.startScheduler(['--json']);
		sandbox.script('job.sh', '#!/bin/sh\necho "job $1"\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
		const added = await sandbox.run(['add-job', '--retries', '2', '--each', './job.sh', '1', '2', '3', '4']);
		expect(added.exitCode, added.stderr).toBe(0);

		const fault = await scheduler.waitForEvents(events => events.find((event): event is Extract<SchedulerEvent, {type: 'fault'}> => event.type === 'fault'), 'a fault event');
		expect(fault.fault.kind).toBe('logs');
		expect(fault.fault.message).toBe(`cannot write logs in ${sandbox.logDir}: no space left on device`);
		const waiting = await statusOf(sandbox) as unknown as {scheduler: {paused: boolean; faults: Array<{kind: string; message: string}>}; queue: unknown[]; finished: unknown[]};
		// Not the user's pause: that one stays false.
		expect(waiting.scheduler.paused).toBe(false);
		expect(waiting.scheduler.faults.map(each => each.message)).toEqual([fault.fault.message]);
		expect(waiting.queue).toHaveLength(4);
		expect(waiting.finished).toHaveLength(0);
		const plain = await sandbox.run(['status']);
		expect(plain.stdout).toContain(`paused: cannot write logs in ${sandbox.logDir}: no space left on device`);

		// Room for the jobs' logs again: the re-check finds it, and they run.
		for (const filler of fillers) rmSync(filler);
		const done = await waitForStatus(sandbox, view => view.queue.length === 0 && view.running.length === 0 && view.finished.length >= 4, 120_000);
		const runs = done.finished as unknown as FinishedView[];
		expect(runs.map(run => [run.id, run.exitCode, run.outcome, run.attempt ?? 1]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([1, 2, 3, 4].map(id => [id, 0, 'succeeded', 1]));
		expect(scheduler.events().some(event => event.type === 'fault-cleared')).toBe(true);
		expect((await statusOf(sandbox) as unknown as {scheduler: {faults: unknown[]}}).scheduler.faults).toEqual([]);
	});
});
