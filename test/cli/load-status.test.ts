import {copyFileSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, createSandbox, statusOf, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// load-status reads our own `status --json` and both shapes of the Python original's status.

const fixtures = resolve(import.meta.dirname, '../fixtures');
const original = join(fixtures, 'original');
let sandbox: Sandbox;

beforeEach(async () => {
	sandbox = createSandbox();
	await sandbox.startScheduler();
	sandbox.script('example_job.sh', '#!/bin/sh\necho "$@"\n');
	sandbox.script('job.sh', '#!/bin/sh\necho "$1 on $WORKER JOB_MODE=$JOB_MODE GPU=$GPU"\n');
});

afterEach(async () => {
	await sandbox.cleanup();
});

type Loaded = {workers: Array<[string, Record<string, string>]>; queue: Array<[string[], Record<string, string>]>};

// What each status printed by the original (test/fixtures/original, made by capture.py) loads to: the jobs
// that were running come first, in the order of their workers, then the waiting ones.
const q3 = ['q3', 'ünï', '$HOME', 'a;b', '--', '--flag'];
const qJobs: Loaded['queue'] = [[['q1', 'two words'], {}], [['q2'], {}], [q3, {}], [['q4'], {}]];
const gpuWorkers: Loaded['workers'] = [['gpu1', {GPU: '0', CUDA_HOME: '/opt/cuda'}], ['gpu2', {}]];
const eJobs: Loaded['queue'] = [[['e1'], {JOB_MODE: 'fast'}], [['e2'], {}], [['e3'], {JOB_MODE: 'slow', GPU: '1'}]];
const loadsTo: Record<string, Loaded> = {
	'empty.json': {workers: [], queue: []},
	'queued-no-workers.json': {workers: [], queue: qJobs},
	'running-and-queued.json': {workers: [['w1', {}]], queue: qJobs},
	// The worker that was to leave once its job ended is not brought back; its job is.
	'busy-remove-after-finish.json': {workers: [['w1', {}]], queue: qJobs},
	'workers-idle-after-jobs-ended.json': {workers: [['w1', {}]], queue: []},
	'with-env-loaded.json': {workers: gpuWorkers, queue: eJobs},
	'with-env-running-and-queued.json': {workers: gpuWorkers, queue: [...eJobs, [['e4'], {}]]},
	'busy-after-failed-kill.json': {workers: gpuWorkers, queue: [...eJobs, [['e4'], {}]]},
	'after-restart-no-workers.json': {workers: [], queue: [[['r1'], {}]]},
};
// What it printed that holds no status: refused in one line.
const refused: Record<string, RegExp> = {
	'after-restart.json': /^jobdeck: status\.json: it holds null, not a status: the original cli\.py prints that when it cannot report its state.*add-worker\n$/,
	'after-restart.combined.txt': /^jobdeck: status\.json: it holds null.*\(it said: 'Slave' object has no attribute 'envs'\)\n$/,
};

describe('load-status of what the original cli.py printed', () => {
	it('has an expectation for every captured file', () => {
		const captured = readdirSync(original).filter(name => /\.(json|txt)$/.test(name)).sort();
		expect(captured).toEqual(Object.keys({...loadsTo, ...refused}).sort());
	});

	it.each(Object.entries(loadsTo))('loads %s', async (name, expected) => {
		await sandbox.run(['pause']);
		// Something to be replaced, to see that load-status replaces it.
		await sandbox.run(['add-worker', '--skip-ssh-check', 'before']);
		copyFileSync(join(original, name), join(sandbox.dir, 'status.json'));
		const result = await sandbox.run(['load-status', 'status.json']);
		expect(result.stderr).toBe('');
		expect(result.exitCode).toBe(0);
		expect(result.stdout).toMatch(new RegExp(`^loaded status\\.json: ${expected.workers.length} worker\\(s\\), ${expected.queue.length} job\\(s\\) queued`));
		const view = await statusOf(sandbox);
		expect(view.workers.map(worker => [worker.name, worker.env])).toEqual(expected.workers);
		expect(view.queue.map(job => [job.script, job.args, job.env])).toEqual(expected.queue.map(([args, env]) => [join(sandbox.dir, 'job.sh'), args, env]));
	});

	it.each(Object.entries(refused))('refuses %s in one line and changes nothing', async (name, message) => {
		await sandbox.run(['add-worker', '--skip-ssh-check', 'keep']);
		await sandbox.run(['pause']);
		await addJob(sandbox, ['./job.sh', 'kept']);
		const before = await statusOf(sandbox);
		copyFileSync(join(original, name), join(sandbox.dir, 'status.json'));
		const result = await sandbox.run(['load-status', 'status.json']);
		expect(result.exitCode).toBe(1);
		expect(result.stderr).toMatch(message);
		expect(result.stdout).toBe('');
		expect(await statusOf(sandbox)).toEqual(before);
	});

	it('runs the loaded jobs with the env of their job and of their worker', async () => {
		copyFileSync(join(original, 'with-env-running-and-queued.json'), join(sandbox.dir, 'status.json'));
		expect((await sandbox.run(['load-status', 'status.json'])).exitCode).toBe(0);
		const done = await waitForStatus(sandbox, status => status.finished.length === 4);
		const lines = done.finished.map(run => readFileSync(run.logFile, 'utf8').trim()).sort();
		expect(lines).toEqual([
			expect.stringMatching(/^e1 on gpu[12] JOB_MODE=fast GPU=(0|)$/),
			expect.stringMatching(/^e2 on gpu[12] JOB_MODE= GPU=(0|)$/),
			expect.stringMatching(/^e3 on gpu[12] JOB_MODE=slow GPU=1$/),
			expect.stringMatching(/^e4 on gpu[12] JOB_MODE= GPU=(0|)$/),
		]);
		// The worker's env reaches the jobs it ran, and only those.
		const ranWithWorkerEnv = done.finished.filter(run => !run.args.includes('e3'));
		const gpuOf = (run: (typeof ranWithWorkerEnv)[number]) => /GPU=(\S*)$/.exec(readFileSync(run.logFile, 'utf8').trim())![1];
		expect(ranWithWorkerEnv.map(run => [run.id, gpuOf(run)])).toEqual(ranWithWorkerEnv.map(run => [run.id, run.worker === 'gpu1' ? '0' : '']));
	});
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
		['not json at all', /^jobdeck: bad\.json: it is not JSON/],
		['', /^jobdeck: bad\.json: it is empty\n$/],
		['INFO:root:Stopped\n', /^jobdeck: bad\.json: it holds no status, only the original cli\.py's messages: Stopped\n$/],
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
