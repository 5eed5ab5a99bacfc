import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, createSandbox, statusOf, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// add-worker, remove-worker, enable/disable, through a real headless scheduler.

let sandbox: Sandbox;

beforeEach(async () => {
	sandbox = createSandbox();
	await sandbox.startScheduler();
});

afterEach(async () => {
	await sandbox.cleanup();
});

describe('add-worker', () => {
	it('takes any name without control characters, with env and slots', async () => {
		const result = await sandbox.run(['add-worker', '--skip-ssh-check', '-e', 'PORT=2222', '-e', 'OPTS=a=b', '--slots', '3', 'user@host:2222', '10.0.0.7', 'gpu box ü']);
		expect(result.exitCode).toBe(0);
		expect(result.stdout).toContain('added worker user@host:2222 (3 slots)');
		const {workers} = await statusOf(sandbox);
		expect(workers.map(worker => [worker.name, worker.slots, worker.state, worker.env])).toEqual([
			['user@host:2222', 3, 'idle', {PORT: '2222', OPTS: 'a=b'}],
			['10.0.0.7', 3, 'idle', {PORT: '2222', OPTS: 'a=b'}],
			['gpu box ü', 3, 'idle', {PORT: '2222', OPTS: 'a=b'}],
		]);
	});

	it.each([
		[['dup', 'dup'], /worker "dup" already exists/],
		[['ok1', ''], /worker name is empty/],
		[['bad\u0007bell'], /contains a control character/],
		[['new\nline'], /contains a control character/],
		[['--', '-oProxyCommand=touch pwned'], /starts with "-"/],
		[['--slots', '0', 'w'], /slots must be a whole number from 1 to 10000/],
		[['--slots', 'many', 'w'], /slots must be a whole number/],
		[['-e', 'SLAVE_IP=x', 'w'], /SLAVE_IP is reserved/],
		[['-e', 'novalue', 'w'], /has no "="/],
	])('refuses %j with one clear line and adds nothing', async (args, message) => {
		await sandbox.run(['add-worker', '--skip-ssh-check', 'existing']);
		const before = await statusOf(sandbox);
		const result = await sandbox.run(['add-worker', '--skip-ssh-check', ...args]);
		expect(result.exitCode).not.toBe(0);
		expect(result.stderr).toMatch(message);
		expect(result.stderr.trim().split('\n')).toHaveLength(1);
		expect(await statusOf(sandbox)).toEqual(before);
	});

	it('refuses a duplicate of an existing worker', async () => {
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const result = await sandbox.run(['add-worker', '--skip-ssh-check', 'w2', 'w1']);
		expect(result.exitCode).not.toBe(0);
		expect(result.stderr).toMatch(/worker "w1" already exists/);
		expect((await statusOf(sandbox)).workers.map(worker => worker.name)).toEqual(['w1']);
	});

	it('checks each worker with a non-interactive ssh login and refuses one that cannot be reached', async () => {
		// Port 1 on loopback: nothing listens there, so ssh fails at once.
		const result = await sandbox.run(['add-worker', 'root@127.0.0.1:1']);
		expect(result.exitCode).not.toBe(0);
		expect(result.stderr).toMatch(/worker root@127\.0\.0\.1:1 failed the ssh check \(.*(refused|timed out).*\)/i);
		expect(result.stderr.trim().split('\n')).toHaveLength(1);
		expect((await statusOf(sandbox)).workers).toEqual([]);
	});

	it('runs up to --slots jobs at once on one worker', async () => {
		sandbox.script('hold.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', 'w1']);
		for (let index = 0; index < 3; index++) await addJob(sandbox, ['./hold.sh']);
		const status = await waitForStatus(sandbox, view => view.running.length === 2);
		expect(status.queue).toHaveLength(1);
		expect(status.workers[0]!.runningJobs).toHaveLength(2);
		(await import('node:fs')).writeFileSync(join(sandbox.dir, 'release'), '');
		await waitForStatus(sandbox, view => view.finished.length === 3);
	});
});

describe('remove-worker', () => {
	it('removes an idle worker at once and refuses a busy one without --wait or --kill', async () => {
		sandbox.script('hold.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'idle', 'busy']);
		await sandbox.run(['disable', 'idle']);
		const id = await addJob(sandbox, ['./hold.sh']);
		await waitForStatus(sandbox, view => view.running.length === 1);
		expect((await sandbox.run(['remove-worker', 'idle'])).exitCode).toBe(0);
		const refused = await sandbox.run(['remove-worker', 'busy']);
		expect(refused.exitCode).not.toBe(0);
		expect(refused.stderr).toMatch(new RegExp(`worker busy is running job ${id}: use --wait .* or --kill`));
		expect((await statusOf(sandbox)).workers.map(worker => worker.name)).toEqual(['busy']);
		const unknown = await sandbox.run(['remove-worker', 'nobody']);
		expect(unknown.stderr).toMatch(/there is no worker named "nobody"/);
		(await import('node:fs')).writeFileSync(join(sandbox.dir, 'release'), '');
	});

	it('--wait lets the job finish, gives the worker no new job, then removes it', async () => {
		sandbox.script('hold.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\nexit 6\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const first = await addJob(sandbox, ['./hold.sh']);
		const second = await addJob(sandbox, ['./hold.sh']);
		await waitForStatus(sandbox, view => view.running.length === 1);
		expect((await sandbox.run(['remove-worker', '--wait', 'w1'])).exitCode).toBe(0);
		expect((await statusOf(sandbox)).workers[0]!.state).toBe('draining');
		(await import('node:fs')).writeFileSync(join(sandbox.dir, 'release'), '');
		const status = await waitForStatus(sandbox, view => view.workers.length === 0);
		expect(status.finished.map(run => [run.id, run.exitCode])).toEqual([[first, 6]]);
		expect(status.queue.map(job => job.id)).toEqual([second]);
	});

	it('--kill cancels the running job and removes the worker', async () => {
		sandbox.script('forever.sh', '#!/bin/sh\nsleep 600\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./forever.sh']);
		await waitForStatus(sandbox, view => view.running.some(run => run.pid !== undefined));
		expect((await sandbox.run(['remove-worker', '--kill', 'w1'])).exitCode).toBe(0);
		const status = await waitForStatus(sandbox, view => view.workers.length === 0 && view.finished.length === 1);
		expect(status.finished[0]).toMatchObject({id, outcome: 'cancelled', signal: 'SIGTERM'});
	});
});

it('disable drains a worker and enable gives it jobs again', async () => {
	sandbox.script('job.sh', '#!/bin/sh\necho "$WORKER" >> ran-on.txt\n');
	await sandbox.run(['add-worker', '--skip-ssh-check', '--tag', 'one', 'w1']);
	await sandbox.run(['disable', 'w1']);
	const held = await addJob(sandbox, ['--needs', 'one', './job.sh']);
	// Instead of a moment's wait, proof that the scheduler has handed out jobs since: a job queued after
	// the first ran on another worker, so the first was passed over, and only the disabled w1 could take it.
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w2']);
	await addJob(sandbox, ['./job.sh']);
	await waitFor(() => existsSync(join(sandbox.dir, 'ran-on.txt')) && readFileSync(join(sandbox.dir, 'ran-on.txt'), 'utf8') === 'w2\n', undefined, 'the second job to run on w2');
	expect((await statusOf(sandbox)).queue.map(job => job.id)).toEqual([held]);
	await sandbox.run(['enable', 'w1']);
	await waitForStatus(sandbox, view => view.finished.length === 2);
	await waitFor(() => readFileSync(join(sandbox.dir, 'ran-on.txt'), 'utf8') === 'w2\nw1\n', undefined, () => `the first job to run on w1; ran-on.txt: ${readFileSync(join(sandbox.dir, 'ran-on.txt'), 'utf8')}`);
});
