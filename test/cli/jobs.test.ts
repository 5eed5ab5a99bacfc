import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {addJob, createSandbox, isAlive, statusOf, waitFor, waitForStatus, type Sandbox, type SchedulerProcess} from '../helpers/jobdeck.js';

// add-job, remove-job, cancel, and what a job sees when it runs, through a real headless scheduler.

let sandbox: Sandbox;
let scheduler: SchedulerProcess;

beforeEach(async () => {
	sandbox = createSandbox();
	scheduler = await sandbox.startScheduler();
});

afterEach(async () => {
	await sandbox.cleanup();
});

/** A job script that writes its argv (NUL-separated) and chosen env into files named after its JOB_ID. */
const recordScript = `#!/bin/sh
printf '%s\\0' "$@" > "argv.$JOB_ID"
printf 'JOB_ID=%s\\nSLAVE_IP=%s\\nWORKER=%s\\nPWD=%s\\nPATH_SET=%s\\nCOLOUR=%s\\nMODE=%s\\nEQ=%s\\n' "$JOB_ID" "$SLAVE_IP" "$WORKER" "$(pwd)" "\${PATH:+yes}" "$COLOUR" "$MODE" "$EQ" > "env.$JOB_ID"
echo "output of $JOB_ID"
exit \${EXIT_WITH:-0}
`;

describe('add-job', () => {
	it('passes every argument after SCRIPT to the script byte for byte, flags and -- included', async () => {
		sandbox.script('record.sh', recordScript);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const args = ['--each', '-e', 'X=1', '--', 'two words', 'quote\'s "double"', '$(touch pwned)', '`id`', 'a;b|c&&d', 'new\nline', 'ünïcødé ✓', ''];
		const id = await addJob(sandbox, ['./record.sh', ...args]);
		const status = await waitForStatus(sandbox, view => view.finished.some(run => run.id === id));
		const run = status.finished.find(candidate => candidate.id === id)!;
		expect(run.exitCode).toBe(0);
		const argv = readFileSync(join(sandbox.dir, `argv.${run.runId}`), 'utf8').split('\0').slice(0, -1);
		expect(argv).toEqual(args);
		expect(() => readFileSync(join(sandbox.dir, 'pwned'))).toThrow();
	});

	it('takes jobdeck\'s own flags before SCRIPT, and -- before a script whose name starts with -', async () => {
		sandbox.script('-dash.sh', recordScript);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['-e', 'MODE=fast', '--', '-dash.sh', '-e', 'MODE=slow']);
		const status = await waitForStatus(sandbox, view => view.finished.some(run => run.id === id));
		const run = status.finished.find(candidate => candidate.id === id)!;
		expect(readFileSync(join(sandbox.dir, `argv.${run.runId}`), 'utf8').split('\0').slice(0, -1)).toEqual(['-e', 'MODE=slow']);
		expect(readFileSync(join(sandbox.dir, `env.${run.runId}`), 'utf8')).toContain('MODE=fast\n');
	});

	it('runs the job in the directory add-job ran in, with JOB_ID, SLAVE_IP, WORKER, worker env, job env and the scheduler\'s PATH', async () => {
		const subdir = join(sandbox.dir, 'sub');
		sandbox.script('sub/record.sh', recordScript);
		await sandbox.run(['add-worker', '--skip-ssh-check', '-e', 'COLOUR=blue', '-e', 'MODE=worker', 'user@host:2222']);
		const id = await addJob(sandbox, ['-e', 'MODE=job', '-e', 'EQ=a=b=c', './record.sh'], {cwd: subdir});
		const status = await waitForStatus(sandbox, view => view.finished.some(run => run.id === id));
		const run = status.finished.find(candidate => candidate.id === id)!;
		const env = readFileSync(join(subdir, `env.${run.runId}`), 'utf8');
		expect(env).toBe([
			`JOB_ID=${run.runId}`,
			'SLAVE_IP=user@host:2222',
			'WORKER=user@host:2222',
			`PWD=${subdir}`,
			'PATH_SET=yes',
			'COLOUR=blue',
			'MODE=job',
			'EQ=a=b=c',
			'',
		].join('\n'));
		expect(readFileSync(run.logFile, 'utf8')).toBe(`output of ${run.runId}\n`);
		expect(run.logFile).toBe(join(sandbox.logDir, `job_${run.runId}.txt`));
	});

	it.each([
		[['./missing.sh'], /script .*missing\.sh does not exist/],
		[['./plain.txt'], /not executable/],
		[['./adir'], /is a directory/],
		[['-e', 'JOB_ID=1', './ok.sh'], /JOB_ID is reserved/],
		[['-e', 'SLAVE_IP=x', './ok.sh'], /SLAVE_IP is reserved/],
		[['-e', 'WORKER=x', './ok.sh'], /WORKER is reserved/],
		[['-e', 'NOEQUALS', './ok.sh'], /has no "="/],
		[['-e', '=value', './ok.sh'], /env name is empty/],
	])('refuses add-job %j with a clear one-line error and changes nothing', async (args, message) => {
		sandbox.script('ok.sh', '#!/bin/sh\n');
		sandbox.script('plain.txt', 'x');
		const {chmodSync, mkdirSync} = await import('node:fs');
		chmodSync(join(sandbox.dir, 'plain.txt'), 0o644);
		mkdirSync(join(sandbox.dir, 'adir'));
		const before = await statusOf(sandbox);
		const result = await sandbox.run(['add-job', ...args]);
		expect(result.exitCode).not.toBe(0);
		expect(result.stderr).toMatch(message);
		expect(result.stderr.trim().split('\n')).toHaveLength(1);
		expect(await statusOf(sandbox)).toEqual(before);
	});

	it('hands jobs out first in, first out, with a fresh ascending JOB_ID for every run', async () => {
		sandbox.script('quick.sh', '#!/bin/sh\necho "$1" >> order.txt\n');
		await sandbox.run(['add-job', './quick.sh', 'first']);
		for (const name of ['second', 'third', 'fourth', 'fifth']) await addJob(sandbox, ['./quick.sh', name]);
		await sandbox.run(['add-worker', '--skip-ssh-check', 'only']);
		const status = await waitForStatus(sandbox, view => view.finished.length === 5);
		expect(readFileSync(join(sandbox.dir, 'order.txt'), 'utf8')).toBe('first\nsecond\nthird\nfourth\nfifth\n');
		const runIds = status.finished.map(run => run.runId);
		expect(runIds).toEqual([...runIds].sort((a, b) => a - b));
		expect(new Set(runIds).size).toBe(5);
	});
});

describe('remove-job', () => {
	it('removes every queued job with that script and arguments, and jobs by --id', async () => {
		sandbox.script('job.sh', '#!/bin/sh\n');
		const ids = [];
		for (const args of [['a'], ['b'], ['a'], ['a', 'x'], ['c']]) ids.push(await addJob(sandbox, ['./job.sh', ...args]));
		const removed = await sandbox.run(['remove-job', './job.sh', 'a']);
		expect(removed.exitCode).toBe(0);
		expect((await statusOf(sandbox)).queue.map(job => job.id)).toEqual([ids[1], ids[3], ids[4]]);
		expect((await sandbox.run(['remove-job', '--id', String(ids[1]), String(ids[4])])).exitCode).toBe(0);
		expect((await statusOf(sandbox)).queue.map(job => job.args)).toEqual([['a', 'x']]);
		const unknown = await sandbox.run(['remove-job', '--id', '999']);
		expect(unknown.exitCode).not.toBe(0);
		expect(unknown.stderr).toMatch(/job 999 is not queued/);
		const nothing = await sandbox.run(['remove-job', './job.sh', 'zzz']);
		expect(nothing.exitCode).not.toBe(0);
		expect(nothing.stderr).toMatch(/no queued job runs/);
	});
});

describe('cancel', () => {
	it('sends SIGTERM to the running job\'s whole process group and removes a queued job', async () => {
		sandbox.script('tree.sh', '#!/bin/sh\nsleep 600 &\necho "child $!" > "child.$JOB_ID"\nwait\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const running = await addJob(sandbox, ['./tree.sh']);
		const queued = await addJob(sandbox, ['./tree.sh']);
		const status = await waitForStatus(sandbox, view => view.running.some(run => run.id === running && run.pid !== undefined));
		const run = status.running.find(candidate => candidate.id === running)!;
		const childPid = Number(await waitFor(() => {
			try {
				return readFileSync(join(sandbox.dir, `child.${run.runId}`), 'utf8').split(' ')[1];
			} catch {
				return undefined;
			}
		}));
		expect(isAlive(childPid)).toBe(true);
		const cancel = await sandbox.run(['cancel', String(running), String(queued)]);
		expect(cancel.exitCode).toBe(0);
		const after = await waitForStatus(sandbox, view => view.finished.some(candidate => candidate.id === running));
		const finished = after.finished.find(candidate => candidate.id === running)!;
		expect(finished.outcome).toBe('cancelled');
		expect(finished.signal).toBe('SIGTERM');
		expect(after.queue).toEqual([]);
		await waitFor(() => !isAlive(childPid), undefined, 'the grandchild to die with its group');
	});

	it('sends SIGKILL once the grace runs out to a job that ignores SIGTERM', async () => {
		// The grace is checked by the scheduler's own record of the cancel (its events), not the wall clock.
		await scheduler.stop();
		scheduler = await sandbox.startScheduler(['--json']);
		sandbox.script('stubborn.sh', '#!/bin/sh\ntrap "" TERM\necho ready\nwhile :; do sleep 0.1; done\n');
		await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
		const id = await addJob(sandbox, ['./stubborn.sh']);
		const status = await waitForStatus(sandbox, view => view.running.some(run => run.id === id && run.pid !== undefined));
		const {pid} = status.running[0]!;
		await waitFor(() => readFileSync(status.running[0]!.logFile, 'utf8').includes('ready'));
		expect((await sandbox.run(['cancel', '--grace', '1s', String(id)])).exitCode).toBe(0);
		const after = await waitForStatus(sandbox, view => view.finished.some(run => run.id === id));
		const cancelled = scheduler.events().find(event => event.type === 'cancel-requested' && event.id === id);
		expect(cancelled, 'the cancel-requested event').toBeDefined();
		expect(after.finished[0]!.endedAt - cancelled!.at).toBeGreaterThanOrEqual(1000);
		expect(after.finished[0]).toMatchObject({outcome: 'cancelled', signal: 'SIGKILL', exitCode: null});
		expect(isAlive(pid!)).toBe(false);
	});

	it('refuses an unknown job id and a malformed one', async () => {
		const unknown = await sandbox.run(['cancel', '12345']);
		expect(unknown.exitCode).not.toBe(0);
		expect(unknown.stderr).toMatch(/job 12345 is neither queued nor running/);
		const malformed = await sandbox.run(['cancel', 'abc']);
		expect(malformed.exitCode).not.toBe(0);
		expect(malformed.stderr).toMatch(/job id "abc" is not a number/);
	});
});

it('records each job\'s true exit code and keeps the scheduler printing one line per event', async () => {
	sandbox.script('exit.sh', '#!/bin/sh\nexit "$1"\n');
	await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '3', 'w1']);
	const ids = [];
	// Not 255: that one means "worker unreachable" (test/cli/failures.test.ts).
	for (const code of [0, 1, 7, 42, 254]) ids.push(await addJob(sandbox, ['./exit.sh', String(code)]));
	const status = await waitForStatus(sandbox, view => view.finished.length === 5);
	expect(ids.map(id => status.finished.find(run => run.id === id)!.exitCode)).toEqual([0, 1, 7, 42, 254]);
	expect(status.workers[0]).toMatchObject({jobsDone: 1, jobsFailed: 4});
	await scheduler.waitForOutput(new RegExp(`finished job ${ids[3]} on w1 \\(JOB_ID \\d+\\): exit 42`));
});

describe('bulk submission', () => {
	it('--each queues one job per argument and prints their ids', async () => {
		sandbox.script('job.sh', '#!/bin/sh\n');
		await sandbox.run(['pause']);
		const result = await sandbox.run(['add-job', '--each', './job.sh', 'a.txt', 'b c.txt', '--flag']);
		expect(result.exitCode).toBe(0);
		const ids = result.stdout.trim().split('\n').map(Number);
		const {queue} = await statusOf(sandbox);
		expect(queue.map(job => [job.id, job.args])).toEqual([[ids[0], ['a.txt']], [ids[1], ['b c.txt']], [ids[2], ['--flag']]]);
	});

	it('--from-file queues one job per line, splitting words without a shell, also from stdin', async () => {
		sandbox.script('job.sh', '#!/bin/sh\n');
		await sandbox.run(['pause']);
		const {writeFileSync} = await import('node:fs');
		writeFileSync(join(sandbox.dir, 'list.txt'), 'one\n\n"two words" three\n\'$(rm -rf /)\' `x` *\n');
		expect((await sandbox.run(['add-job', '--from-file', 'list.txt', './job.sh', 'fixed'])).exitCode).toBe(0);
		expect((await sandbox.run(['add-job', '--from-file', '-', './job.sh'], {input: 'from stdin\n'})).exitCode).toBe(0);
		const {queue} = await statusOf(sandbox);
		expect(queue.map(job => job.args)).toEqual([['fixed', 'one'], ['fixed', 'two words', 'three'], ['fixed', '$(rm -rf /)', '`x`', '*'], ['from', 'stdin']]);
		const unclosed = await sandbox.run(['add-job', '--from-file', '-', './job.sh'], {input: 'ok\n"never closed\n'});
		expect(unclosed.exitCode).not.toBe(0);
		expect(unclosed.stderr).toMatch(/line 2: the arguments have an unclosed " quote/);
		expect((await statusOf(sandbox)).queue).toHaveLength(4);
	});
});
