import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {cliPath, createSandbox, statusOf, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// A job the kernel would refuse at exec ("Argument list too long") is refused when it is added, in one
// line, and nothing is queued: one argument or one NAME=VALUE over 128 KiB, or all of them together,
// with the scheduler's own environment, over what the kernel takes (ARG_MAX, a quarter of the stack limit).

let sandbox: Sandbox;
// The scheduler and the command line inherit this process's stack limit, and with it this figure.
const argMax = Math.min(Number(execFileSync('getconf', ['ARG_MAX'], {encoding: 'utf8'})), 6 * 1024 * 1024);
const word = (letter: string, bytes: number) => letter.repeat(bytes);

beforeEach(async () => {
	sandbox = createSandbox();
	sandbox.script('ok.sh', '#!/bin/sh\necho "ran with $# arguments, ${#BIG0} bytes of BIG0"\n');
	await sandbox.startScheduler();
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
	await sandbox.run(['pause']);
});

afterEach(async () => {
	await sandbox.cleanup();
});

async function expectRefused(args: string[], message: RegExp): Promise<void> {
	const before = await statusOf(sandbox);
	const result = await sandbox.run(args);
	expect(result.stderr).toMatch(message);
	expect(result.stderr.split('\n')).toHaveLength(2);
	expect(result.exitCode).toBe(1);
	expect(result.stdout).toBe('');
	expect(await statusOf(sandbox)).toEqual(before);
}

/** Ten words of 100,000 bytes on one line: the arguments of one job, just under the 1 MiB a job may have. */
function bigLine(letter: string): string {
	return Array.from({length: 10}, () => word(letter, 100_000)).join(' ');
}

/** -e BIG0=… BIG1=…: enough env, passed on jobdeck's own command line (so within what exec took for it), to take `bigLine`'s job over the limit. */
function envFlags(): string[] {
	const envBytes = argMax - 1_000_000 + 10_000;
	return Array.from({length: Math.ceil(envBytes / 100_000)}, (_, index) => ['-e', `BIG${index}=${word('e', 100_000)}`]).flat();
}

describe('add-job refuses what exec would refuse', () => {
	it('arguments and env that together are over ARG_MAX (--from-file), and takes the same job without the env', async () => {
		writeFileSync(join(sandbox.dir, 'one.txt'), `${bigLine('a')}\n`);
		await expectRefused(['add-job', ...envFlags(), '--from-file', 'one.txt', './ok.sh'], new RegExp(`^jobdeck: the job's command line and env come to \\d+ bytes at exec, .* more than the ${argMax} the kernel takes \\(ARG_MAX\\)\\n$`));

		// Without the env it fits, and it really runs: exec took it.
		expect((await sandbox.run(['add-job', '--from-file', 'one.txt', './ok.sh'])).exitCode).toBe(0);
		await sandbox.run(['resume']);
		const done = await waitForStatus(sandbox, status => status.finished.length === 1);
		expect(done.finished[0]!.exitCode).toBe(0);
	});

	it('a batch (--from-file) with one job too big queues none of it', async () => {
		writeFileSync(join(sandbox.dir, 'jobs.txt'), `small one\n${bigLine('b')}\nsmall two\n`);
		await expectRefused(['add-job', ...envFlags(), '--from-file', 'jobs.txt', './ok.sh'], /^jobdeck: the job's command line and env come to \d+ bytes at exec/);
		// The same batch without the env is fine.
		expect((await sandbox.run(['add-job', '--from-file', 'jobs.txt', './ok.sh'])).exitCode).toBe(0);
		expect((await statusOf(sandbox)).queue).toHaveLength(3);
	});

	it('--each: the job with the big argument takes the batch over, and none is queued', async () => {
		// jobdeck's own command line must still fit exec: it is made to come within 6,000 bytes of the limit,
		// and the job with the big argument then goes over it by the room kept for jobdeck's own variables.
		const execBytes = (text: string) => Buffer.byteLength(text) + 1 + 8;
		const cliEnv = {...process.env, JOBDECK_DATA_DIR: sandbox.dataDir};
		const big = word('c', 120_000);
		const fixed = [process.execPath, 'node', cliPath, 'add-job', '--each', './ok.sh', 'small', big, 'small'];
		let room = argMax - 6000 - Object.entries(cliEnv).reduce((sum, [name, value]) => sum + execBytes(`${name}=${value}`), 0) - fixed.reduce((sum, text) => sum + execBytes(text), 0);
		const env: string[] = [];
		for (let index = 0; room > 200; index++) {
			const value = word('e', Math.min(100_000, room - execBytes('-e') - execBytes(`E${index}=`)));
			env.push('-e', `E${index}=${value}`);
			room -= execBytes('-e') + execBytes(`E${index}=${value}`);
		}

		await expectRefused(['add-job', ...env, '--each', './ok.sh', 'small', big, 'small'], /^jobdeck: the job's command line and env come to \d+ bytes at exec/);
		// Without the big one, the others fit.
		expect((await sandbox.run(['add-job', ...env, '--each', './ok.sh', 'small', 'small'])).exitCode).toBe(0);
	});

	it('one env value over 128 KiB, loaded from a status (our own shape and the original\'s), for a job or a worker', async () => {
		const big = word('v', 1024 * 1024);
		const statuses = [
			{workers: [], queue: [{script: './ok.sh', args: [], env: {BIG: big}}]},
			{workers: [{name: 'w2', env: {BIG: big}}], queue: []},
			{job_waitlist: [[['./ok.sh'], [`BIG=${big}`]]], slaves: []},
			{job_waitlist: [], slaves: [{ip: 'w3', envs: {BIG: big}, status: 'idle', running_job: null}]},
		];
		for (const status of statuses) {
			writeFileSync(join(sandbox.dir, 'status.json'), JSON.stringify(status));
			await expectRefused(['load-status', 'status.json'], /^jobdeck: status\.json: env BIG is longer than 128 KiB, the kernel's limit for one variable \(1048580 bytes as NAME=VALUE\)\n$/);
		}
	});

	it('one argument over 128 KiB from a file, while 128 KiB less one byte is taken', async () => {
		writeFileSync(join(sandbox.dir, 'long.txt'), `${word('d', 128 * 1024)}\n`);
		await expectRefused(['add-job', '--from-file', 'long.txt', './ok.sh'], /^jobdeck: an argument is longer than 128 KiB, the kernel's limit for one argument \(argument 1: 131072 bytes\)\n$/);
		writeFileSync(join(sandbox.dir, 'longest.txt'), `${word('d', 128 * 1024 - 1)}\n`);
		expect((await sandbox.run(['add-job', '--from-file', 'longest.txt', './ok.sh'])).exitCode).toBe(0);
		await sandbox.run(['resume']);
		const done = await waitForStatus(sandbox, status => status.finished.length === 1);
		expect(done.finished[0]!.exitCode).toBe(0);
	});
});
