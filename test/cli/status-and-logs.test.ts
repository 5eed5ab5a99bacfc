import {spawn} from 'node:child_process';
import {readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {execa} from 'execa';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, cliPath, createSandbox, statusOf, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

let sandbox: Sandbox;

beforeEach(() => {
	sandbox = createSandbox();
});

afterEach(async () => {
	await sandbox.cleanup();
});

describe('status', () => {
	it('shows queue, workers, running and finished jobs as a table and as JSON, also with the scheduler stopped', async () => {
		sandbox.script('hold.sh', '#!/bin/sh\necho started\nwhile [ ! -e release ]; do sleep 0.05; done\n');
		sandbox.script('fail.sh', '#!/bin/sh\nexit 2\n');
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', '-e', 'K=v', 'w1']);
		const failed = await addJob(sandbox, ['./fail.sh']);
		await waitForStatus(sandbox, view => view.finished.length === 1);
		const running = await addJob(sandbox, ['./hold.sh']);
		const queued = await addJob(sandbox, ['-e', 'A=1', './hold.sh', 'x y']);
		const view = await waitForStatus(sandbox, status => status.running.some(run => run.pid !== undefined));

		expect(view.scheduler).toMatchObject({running: true, paused: false});
		expect(view.workers).toEqual([expect.objectContaining({name: 'w1', state: 'busy', slots: 1, env: {K: 'v'}, runningJobs: [running]})]);
		expect(view.queue).toEqual([expect.objectContaining({id: queued, script: join(sandbox.dir, 'hold.sh'), args: ['x y'], env: {A: '1'}})]);
		expect(view.running).toEqual([expect.objectContaining({id: running, worker: 'w1', runId: expect.any(Number), pid: expect.any(Number), logFile: expect.stringContaining('job_'), startedAt: expect.any(Number)})]);
		expect(view.finished).toEqual([expect.objectContaining({id: failed, worker: 'w1', runId: expect.any(Number), exitCode: 2, signal: null, startedAt: expect.any(Number), endedAt: expect.any(Number), logFile: expect.any(String)})]);

		const table = await sandbox.run(['status']);
		expect(table.exitCode).toBe(0);
		expect(table.stdout).toMatch(/^scheduler: running/);
		expect(table.stdout).toMatch(/w1\s+busy\s+1\/1/);
		// ID, time queued, priority, needs, after, why it waits, command.
		expect(table.stdout).toMatch(new RegExp(`${queued}\\s+\\d+s\\s+0\\s+-\\s+-\\s+every worker is busy\\s+\\./hold\\.sh 'x y'`));
		expect(table.stdout).toMatch(new RegExp(`${failed}\\s+\\d+\\s+w1\\s+exit 2`));

		await sandbox.run(['stop']);
		const offline = await waitFor(async () => {
			const status = await statusOf(sandbox);
			return status.scheduler.running ? undefined : status;
		});
		expect(offline.queue.map(job => job.id)).toEqual([queued]);
		expect(offline.running.map(run => run.id)).toEqual([running]);
		expect((await sandbox.run(['status'])).stdout).toMatch(/^scheduler: stopped/);
		writeFileSync(join(sandbox.dir, 'release'), '');
	});

	it('shows the newest 20 finished runs, or as many as --finished asks for', async () => {
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '4', 'w1']);
		await sandbox.run(['add-job', '--each', '/bin/true', ...Array.from({length: 25}, (_, index) => String(index + 1))]);
		const view = await waitForStatus(sandbox, status => status.workers[0]!.jobsDone === 25);
		expect(view.finished).toHaveLength(20);
		const all = JSON.parse((await sandbox.run(['status', '--json', '--finished', 'all'])).stdout) as typeof view;
		expect(all.finished.map(run => run.args[0]).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({length: 25}, (_, index) => String(index + 1)));
		const three = JSON.parse((await sandbox.run(['status', '--json', '--finished', '3'])).stdout) as typeof view;
		expect(three.finished).toEqual(all.finished.slice(-3));
		const bad = await sandbox.run(['status', '--finished', 'lots']);
		expect(bad.exitCode).not.toBe(0);
		expect(bad.stderr).toMatch(/--finished takes a number or "all"/);
	});

	it('works on a data dir where no scheduler ever ran', async () => {
		const view = await statusOf(sandbox);
		expect(view).toMatchObject({scheduler: {running: false}, workers: [], queue: [], running: [], finished: []});
	});
});

describe('logs', () => {
	it('prints a job\'s output, and -f follows it until the job ends', async () => {
		sandbox.script('talk.sh', '#!/bin/sh\necho one\nwhile [ ! -e go ]; do sleep 0.05; done\necho two\necho err >&2\nexit 0\n');
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./talk.sh']);
		await waitForStatus(sandbox, view => view.running.some(run => run.pid !== undefined));
		await waitFor(async () => (await sandbox.run(['logs', String(id)])).stdout === 'one\n');

		const follow = execa('node', [cliPath, 'logs', '-f', String(id)], {cwd: sandbox.dir, env: {JOBDECK_DATA_DIR: sandbox.dataDir}, reject: false, stdin: 'ignore', timeout: 60_000});
		let printed = '';
		follow.stdout.setEncoding('utf8');
		follow.stdout.on('data', (chunk: string) => {
			printed += chunk;
		});
		// It is following once it has printed what is there: only then may the job go on.
		await waitFor(() => printed === 'one\n', undefined, () => `logs -f to print the log so far; it printed ${JSON.stringify(printed)}`);
		writeFileSync(join(sandbox.dir, 'go'), '');
		const followed = await follow;
		expect(followed.exitCode, followed.stderr).toBe(0);
		expect(printed).toBe('one\ntwo\nerr\n');
		expect((await sandbox.run(['logs', String(id)])).stdout).toBe('one\ntwo\nerr\n');

		await sandbox.run(['stop']);
		await waitFor(async () => !(await statusOf(sandbox)).scheduler.running);
		expect((await sandbox.run(['logs', String(id)])).stdout).toBe('one\ntwo\nerr\n');
		const unknown = await sandbox.run(['logs', '999']);
		expect(unknown.exitCode).not.toBe(0);
		expect(unknown.stderr).toMatch(/there is no job 999/);

		// A log deleted by hand: one line, not a stack trace.
		rmSync((await statusOf(sandbox)).finished.findLast(run => run.id === id)!.logFile);
		const missing = await sandbox.run(['logs', String(id)]);
		expect(missing.exitCode).toBe(1);
		expect(missing.stderr).toMatch(/^jobdeck: log file .*job_.* does not exist \(yet\)\n$/);
	});

	it('-f into a pipe nobody reads yet waits for its reader instead of reading the whole log into memory', async () => {
		const size = 64 * 1024 * 1024;
		sandbox.script('chatty.sh', `#!/bin/sh\nyes 'a line of output' | head -c ${size}\necho END\nwhile [ ! -e release ]; do sleep 0.05; done\n`);
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./chatty.sh']);
		const {running} = await waitForStatus(sandbox, view => view.running.some(run => run.pid !== undefined));
		const total = size + 'END\n'.length;
		await waitFor(() => statSync(running[0]!.logFile).size === total, undefined, 'the whole log written');

		const follow = spawn('node', [cliPath, 'logs', '-f', String(id)], {cwd: sandbox.dir, env: {...process.env, JOBDECK_DATA_DIR: sandbox.dataDir}, stdio: ['ignore', 'pipe', 'pipe']});
		const exited = new Promise<number | null>(resolve => {
			follow.on('close', resolve);
		});
		// Nothing reads its stdout for now: the pipe fills, and what it read of the log must stay near what it could write.
		follow.stdout.pause();
		const bytesReadByIt = (): number => Number(/rchar: (\d+)/.exec(readFileSync(`/proc/${follow.pid}/io`, 'utf8'))![1]);
		const bytesWrittenByIt = (): number => Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${follow.pid}/io`, 'utf8'))![1]);
		await waitFor(() => bytesWrittenByIt() >= 64 * 1024, undefined, 'logs -f to fill the pipe');
		// A negative check (it does not read on), so first the point where it has had every chance to:
		// it sits idle, every thread asleep and nothing more read. Reading the whole log into memory
		// (what it used to do) keeps it busy until it has, however slow the machine.
		await waitUntilIdle(follow.pid!, bytesReadByIt);
		// Its own start-up reads modules too; the log is 64 MB.
		expect(bytesReadByIt()).toBeLessThan(16 * 1024 * 1024);

		let received = 0;
		let tail = '';
		follow.stdout.on('data', (chunk: Buffer) => {
			received += chunk.length;
			tail = (tail + chunk.toString('latin1')).slice(-16);
		});
		follow.stdout.resume();
		await waitFor(() => received === total, 30_000, 'the whole log through the pipe');
		writeFileSync(join(sandbox.dir, 'release'), '');
		expect(await exited).toBe(0);
		expect(received).toBe(total);
		expect(tail.endsWith('END\n')).toBe(true);
	});

	it('stops quietly when its reader goes away, as `jobdeck logs ID | head -1` does', async () => {
		sandbox.script('chatty.sh', '#!/bin/sh\nyes \'a line of output\' | head -c 8000000\nwhile [ ! -e release ]; do sleep 0.05; done\n');
		await sandbox.startScheduler();
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./chatty.sh']);
		const {running} = await waitForStatus(sandbox, view => view.running.some(run => run.pid !== undefined));
		await waitFor(() => statSync(running[0]!.logFile).size === 8_000_000, undefined, 'the whole log written');
		for (const follow of [[], ['-f']]) {
			// The first line, then head exits and closes the pipe (a shell pipeline: that is the case to see).
			const result = await execa('bash', ['-c', `set -o pipefail; node "$0" logs ${follow.join(' ')} ${id} | head -1`, cliPath], {cwd: sandbox.dir, env: {JOBDECK_DATA_DIR: sandbox.dataDir}, reject: false, timeout: 60_000});
			expect(result.stdout).toBe('a line of output');
			expect(result.stderr).toBe('');
			expect(result.exitCode).toBe(0);
		}

		writeFileSync(join(sandbox.dir, 'release'), '');
	});
});

/**
 * Resolves once process `pid` has sat idle for 20 samples in a row (a second, or longer on a busy
 * machine): every thread asleep and `bytesRead` unchanged. A thread that waits for the CPU shows R,
 * one reading the disk D, so a process that is merely slow never looks idle here.
 */
async function waitUntilIdle(pid: number, bytesRead: () => number): Promise<void> {
	const threadStates = (): string[] => readdirSync(`/proc/${pid}/task`).map(task => {
		try {
			return /^\S+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8'))![1]!;
		} catch {
			return 'gone';
		}
	});
	let quiet = 0;
	let last = -1;
	let states: string[] = [];
	await waitFor(async () => {
		states = threadStates();
		const read = bytesRead();
		quiet = states.every(state => state === 'S') && read === last ? quiet + 1 : 0;
		last = read;
		if (quiet >= 20) return true;
		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
		return false;
	}, undefined, () => `process ${pid} to sit idle; its threads were ${states.join(' ')}, it had read ${last} bytes`);
}
