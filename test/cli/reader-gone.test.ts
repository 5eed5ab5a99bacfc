import {execa} from 'execa';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, cliPath, createSandbox, statusOf, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// Every command stops quietly (exit 0, nothing on stderr) when what reads its output goes away.
// Two kinds of real pipes: one whose reader is gone before the command writes a word (made by
// python3, as node cannot make a plain pipe: it would be a socket pair), so that the write must
// fail whatever the machine's speed; and shell pipelines into `head`, with more output than a pipe holds.

let sandbox: Sandbox;

beforeEach(() => {
	sandbox = createSandbox();
	sandbox.script('job.sh', '#!/bin/sh\necho "job $1"\n');
});

afterEach(async () => {
	await sandbox.cleanup();
});

const closedPipe = `
import json, os, subprocess, sys
read_end, write_end = os.pipe()
os.close(read_end)
done = subprocess.run(sys.argv[1:], stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
print(json.dumps({"exitCode": done.returncode, "stderr": done.stderr.decode()}))
`;

/** Runs `jobdeck ARGS…` with stdout a pipe whose reader has already gone. */
async function intoClosedPipe(args: string[]): Promise<{exitCode: number; stderr: string}> {
	const result = await execa('python3', ['-c', closedPipe, 'node', cliPath, ...args], {cwd: sandbox.dir, env: {JOBDECK_DATA_DIR: sandbox.dataDir}, timeout: 60_000});
	return JSON.parse(result.stdout) as {exitCode: number; stderr: string};
}

/** Runs a bash pipeline in the sandbox with pipefail: its status is jobdeck's if jobdeck failed. */
async function pipeline(command: string): Promise<{exitCode: number; stderr: string; stdout: string}> {
	const result = await execa('bash', ['-o', 'pipefail', '-c', command], {
		cwd: sandbox.dir,
		env: {JOBDECK_DATA_DIR: sandbox.dataDir, JOBDECK: `node ${cliPath}`},
		reject: false,
		timeout: 60_000,
	});
	return {exitCode: result.exitCode ?? -1, stderr: result.stderr, stdout: result.stdout};
}

describe('a command whose reader has gone', () => {
	it('stops quietly, and what it was asked to do is done', async () => {
		await sandbox.startScheduler();
		const commands = [
			['add-worker', '--skip-ssh-check', 'w1'],
			['pause'],
			['add-job', './job.sh', 'one'],
			['add-job', '--each', './job.sh', 'two', 'three'],
			['add-job', '--json', './job.sh', 'four'],
			['status'],
			['status', '--json'],
			['disable', 'w1'],
			['help'],
			['--version'],
			['status', '--no-such-flag'],
		];
		// A usage error is still one line on stderr and exit 1: only the output had nowhere to go.
		const usageError = {exitCode: 1, stderr: expect.stringMatching(/^jobdeck: unknown option '--no-such-flag'.*\n$/)};
		for (const args of commands) {
			const result = await intoClosedPipe(args);
			const expected = args.includes('--no-such-flag') ? usageError : {exitCode: 0, stderr: ''};
			expect({args, ...result}).toEqual({args, ...expected});
		}

		const view = await statusOf(sandbox);
		expect(view.queue.map(job => job.args)).toEqual([['one'], ['two'], ['three'], ['four']]);
		expect(view.workers.map(worker => [worker.name, worker.state])).toEqual([['w1', expect.stringMatching(/drain|disabled/)]]);
		await intoClosedPipe(['resume']);
		await intoClosedPipe(['enable', 'w1']);
		const done = await waitForStatus(sandbox, status => status.finished.length === 4);
		expect((await intoClosedPipe(['logs', String(done.finished[0]!.id)]))).toEqual({exitCode: 0, stderr: ''});
		expect((await intoClosedPipe(['wait']))).toEqual({exitCode: 0, stderr: ''});
	});

	it('events: stops quietly at the first event it cannot print', async () => {
		await sandbox.startScheduler();
		await sandbox.run(['pause']);
		const events = intoClosedPipe(['events']);
		// It prints nothing until an event comes: add jobs until it has gone.
		let settled = false;
		void events.finally(() => {
			settled = true;
		});
		await waitFor(async () => settled || (await addJob(sandbox, ['./job.sh', 'x']), false), 30_000, 'events to end');
		expect(await events).toEqual({exitCode: 0, stderr: ''});
	});

	it('start --headless: stops the scheduler as SIGTERM does, and the next start takes over', async () => {
		expect(await intoClosedPipe(['start', '--headless', '--data-dir', sandbox.dataDir, '--log-dir', sandbox.logDir])).toEqual({exitCode: 0, stderr: ''});
		await sandbox.startScheduler();
		expect((await statusOf(sandbox)).scheduler.running).toBe(true);
	});
});

describe('a pipeline into head', () => {
	it('status --json | head -1, with more output than a pipe holds', async () => {
		await sandbox.startScheduler();
		await sandbox.run(['pause']);
		await sandbox.run(['add-job', '--each', './job.sh', ...Array.from({length: 3000}, (_, index) => `argument-${index}`)]);
		const whole = await sandbox.run(['status', '--json']);
		// More than a pipe (64 KiB) and head's read can take: the write must meet a closed pipe.
		expect(whole.stdout.length).toBeGreaterThan(256 * 1024);
		expect(await pipeline('$JOBDECK status --json | head -1')).toEqual({exitCode: 0, stderr: '', stdout: '{'});
	});

	it('add-job --each … | head -1: every job is queued, the first id printed', async () => {
		await sandbox.startScheduler();
		await sandbox.run(['pause']);
		const count = 30_000;
		const result = await pipeline(`$JOBDECK add-job --each ./job.sh $(seq 1 ${count}) | head -1`);
		expect(result).toEqual({exitCode: 0, stderr: '', stdout: '1'});
		expect((await statusOf(sandbox)).queue.length).toBe(count);
	});

	it('events | head -1 ends once the next event comes', async () => {
		await sandbox.startScheduler();
		await sandbox.run(['pause']);
		const events = pipeline('$JOBDECK events | head -1');
		let settled = false;
		void events.finally(() => {
			settled = true;
		});
		await waitFor(async () => settled || (await addJob(sandbox, ['./job.sh', 'x']), false), 30_000, 'events | head -1 to end');
		expect(await events).toEqual({exitCode: 0, stderr: '', stdout: expect.stringMatching(/queued/)});
	});
});
