import {copyFileSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {createSandbox, statusOf, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// load-status reads our own `status --json` and both shapes of the Python original's status.

const fixtures = resolve(import.meta.dirname, '../fixtures');
let sandbox: Sandbox;

beforeEach(async () => {
	sandbox = createSandbox();
	await sandbox.startScheduler();
	sandbox.script('example_job.sh', '#!/bin/sh\necho "$@"\n');
});

afterEach(async () => {
	await sandbox.cleanup();
});

describe('load-status', () => {
	it('loads the original tool\'s status (plain waitlist), queueing the job that was running first', async () => {
		// Paused, so that the loaded jobs stay in the queue to be looked at.
		await sandbox.run(['pause']);
		copyFileSync(join(fixtures, 'original-status-v1.json'), join(sandbox.dir, 'status.json'));
		const result = await sandbox.run(['load-status', 'status.json']);
		expect(result.exitCode).toBe(0);
		const view = await statusOf(sandbox);
		expect(view.workers.map(worker => [worker.name, worker.env])).toEqual([['111.111.111.111', {}], ['111.111.111.112', {}]]);
		expect(view.queue.map(job => [job.script, job.args])).toEqual([
			[join(sandbox.dir, 'example_job.sh'), ['file1']],
			[join(sandbox.dir, 'example_job.sh'), ['file3']],
			[join(sandbox.dir, 'example_job.sh'), ['file4']],
		]);
	});

	it('loads the original tool\'s status with per-job and per-worker env, through the old command names', async () => {
		await sandbox.run(['pause']);
		copyFileSync(join(fixtures, 'original-status.json'), join(sandbox.dir, 'status.json'));
		const result = await sandbox.run(['load_status', '--server_data_dir', sandbox.dataDir, 'status.json']);
		expect(result.exitCode).toBe(0);
		const view = await statusOf(sandbox);
		// The worker that was to be removed once its job ended is not brought back.
		expect(view.workers.map(worker => [worker.name, worker.env])).toEqual([['111.111.111.111', {PORT: '2222', USER: 'alice'}], ['user3@201:1002', {}]]);
		expect(view.queue.map(job => [job.args, job.env])).toEqual([
			[['file1'], {}],
			[['file2'], {MODE: 'slow'}],
			[['file3'], {MODE: 'fast'}],
			[['file4'], {}],
		]);
	});

	it('round-trips our own status --json', async () => {
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '2', '-e', 'A=1', 'w1']);
		await sandbox.run(['pause']);
		await sandbox.run(['add-job', '-e', 'B=2', './example_job.sh', 'one', 'two words']);
		const saved = await sandbox.run(['status', '--json']);
		writeFileSync(join(sandbox.dir, 'saved.json'), saved.stdout);
		await sandbox.run(['remove-job', '--id', '1']);
		await sandbox.run(['remove-worker', 'w1']);
		expect((await sandbox.run(['load-status', 'saved.json'])).exitCode).toBe(0);
		const view = await statusOf(sandbox);
		expect(view.workers.map(worker => [worker.name, worker.slots, worker.env])).toEqual([['w1', 2, {A: '1'}]]);
		expect(view.queue.map(job => [job.args, job.env])).toEqual([[['one', 'two words'], {B: '2'}]]);
		await sandbox.run(['resume']);
		await waitForStatus(sandbox, status => status.finished.length === 1);
	});

	it.each([
		['not json at all', /is not JSON/],
		['[1,2]', /not a JSON object/],
		['{"job_waitlist": "x"}', /job_waitlist must be a list/],
		['{"job_waitlist": [["./missing.sh"]]}', /missing\.sh does not exist/],
		['{"slaves": [{"ip": "a\\u0001b"}]}', /control character/],
		['{"something": 1}', /neither/],
	])('refuses %s and changes nothing', async (text, message) => {
		await sandbox.run(['add-worker', '--skip-ssh-check', 'keep']);
		writeFileSync(join(sandbox.dir, 'bad.json'), text);
		const before = await statusOf(sandbox);
		const result = await sandbox.run(['load-status', 'bad.json']);
		expect(result.exitCode).not.toBe(0);
		expect(result.stderr).toMatch(message);
		expect(await statusOf(sandbox)).toEqual(before);
	});
});

it('accepts the original cli.py\'s command and flag names', async () => {
	expect((await sandbox.run(['add_slave', '--skip_ssh_auth_check', '--server_data_dir', sandbox.dataDir, 'old1', 'old2'])).exitCode).toBe(0);
	expect((await sandbox.run(['remove_slave', '--server_data_dir', sandbox.dataDir, 'old2'])).exitCode).toBe(0);
	await sandbox.run(['pause']);
	expect((await sandbox.run(['add_job', '--server_data_dir', sandbox.dataDir, './example_job.sh', 'data_1'])).exitCode).toBe(0);
	expect((await sandbox.run(['add_job', './example_job.sh', 'data_2'])).exitCode).toBe(0);
	expect((await sandbox.run(['remove_job', '--server_data_dir', sandbox.dataDir, './example_job.sh', 'data_1'])).exitCode).toBe(0);
	const view = await statusOf(sandbox);
	expect(view.workers.map(worker => worker.name)).toEqual(['old1']);
	expect(view.queue.map(job => job.args)).toEqual([['data_2']]);
	// Saved: the journal holds what happened since the last snapshot.
	expect(readFileSync(join(sandbox.dataDir, 'journal.jsonl'), 'utf8')).toContain('data_2');
});
