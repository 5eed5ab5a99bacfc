import {afterEach, beforeEach, expect, it} from 'vitest';
import {createSandbox, statusOf, type Sandbox} from '../helpers/jobdeck.js';

// A plain `add-job` is read by cli.ts without commander (plain-add-job.ts);
// every other spelling goes through commander. Whichever reads it, the same
// command line must queue the same job: each case here is run through the
// real command line against a real (paused) scheduler, and the job it queued
// is compared with what the user meant.

let sandbox: Sandbox;

beforeEach(() => {
	sandbox = createSandbox();
});

afterEach(async () => {
	await sandbox.cleanup();
});

type Expected = {script: string; args: string[][]; env?: Record<string, string>; retries?: number; timeoutMs?: number; retryDelayMs?: number};

it('queues the same jobs from every spelling of add-job, whichever reader takes it', async () => {
	const script = sandbox.script('job.sh', '#!/bin/sh\n');
	sandbox.script('list.txt', 'a b\n\'c d\'\n');
	await sandbox.startScheduler();
	expect((await sandbox.run(['pause'])).exitCode).toBe(0);
	const cases: Array<[string[], Expected]> = [
		[['add-job', './job.sh'], {script, args: [[]]}],
		[['add_job', './job.sh', 'x'], {script, args: [['x']]}],
		[['add-job', `--data-dir=${sandbox.dataDir}`, './job.sh', '--each', '--data-dir', 'y'], {script, args: [['--each', '--data-dir', 'y']]}],
		[['add-job', '--server_data_dir', sandbox.dataDir, './job.sh'], {script, args: [[]]}],
		[['add-job', '-e', 'A=1', '--env', 'B=2', '--env=C=3=4', './job.sh', '-e', 'D=5'], {script, args: [['-e', 'D=5']], env: {A: '1', B: '2', C: '3=4'}}],
		// A short flag with its value attached: commander's to read.
		[['add-job', '-eA=1', './job.sh'], {script, args: [[]], env: {A: '1'}}],
		[['add-job', '--each', './job.sh', 'p', 'q'], {script, args: [['p'], ['q']]}],
		[['add-job', '--from-file', 'list.txt', './job.sh', 'first'], {script, args: [['first', 'a', 'b'], ['first', 'c d']]}],
		[['add-job', '--retries', '2', '--retry-delay=90s', '--timeout', '2h', './job.sh'], {script, args: [[]], retries: 2, retryDelayMs: 90_000, timeoutMs: 7_200_000}],
		[['add-job', '--', './job.sh', 'z'], {script, args: [['z']]}],
		[['add-job', '/bin/true', '--help'], {script: '/bin/true', args: [['--help']]}],
	];
	for (const [argv, expected] of cases) {
		const before = (await statusOf(sandbox)).queue.length;
		const result = await sandbox.run(argv);
		expect({argv, stderr: result.stderr, exitCode: result.exitCode}).toEqual({argv, stderr: '', exitCode: 0});
		const queue = (await statusOf(sandbox)).queue.slice(before) as Array<Record<string, unknown>>;
		expect(result.stdout).toBe(queue.map(job => `${String(job['id'])}\n`).join(''));
		expect({argv, jobs: queue.map(({script, args, env, cwd, retries, retryDelayMs, timeoutMs}) => ({script, args, env, cwd, retries, retryDelayMs, timeoutMs}))}).toEqual({
			argv,
			jobs: expected.args.map(args => ({
				script: expected.script,
				args,
				env: expected.env ?? {},
				cwd: sandbox.dir,
				retries: expected.retries,
				retryDelayMs: expected.retryDelayMs,
				timeoutMs: expected.timeoutMs,
			})),
		});
	}
});

it('words a refusal the same whichever reader takes the command line', async () => {
	await sandbox.startScheduler();
	const refusals: Array<[string[], string]> = [
		[['add-job', '--retries', 'x', '/bin/true'], 'jobdeck: retries must be a whole number from 0 to 1000, not "x"\n'],
		[['add-job', '--retries', '1', '--retries', 'x', '/bin/true'], 'jobdeck: retries must be a whole number from 0 to 1000, not "x"\n'],
		[['add-job', '--each', '--from-file', 'f', '/bin/true'], 'jobdeck: option \'--each\' cannot be used with option \'--from-file <list>\' (see jobdeck help)\n'],
		[['add-job', '--timeout'], 'jobdeck: option \'--timeout <duration>\' argument missing (see jobdeck help)\n'],
		[['add-job', '--bogus', '/bin/true'], 'jobdeck: unknown option \'--bogus\' (see jobdeck help)\n'],
	];
	for (const [argv, stderr] of refusals) {
		const result = await sandbox.run(argv);
		expect({argv, stderr: result.stderr, exitCode: result.exitCode}).toEqual({argv, stderr, exitCode: 1});
	}

	expect((await statusOf(sandbox)).queue).toEqual([]);
});
