import {afterEach, describe, expect, it} from 'vitest';
import {execa} from 'execa';
import {addJob, cliPath, createSandbox, isAlive, statusOf, waitFor, waitForStatus, type CommandResult, type Sandbox} from '../helpers/jobdeck.js';

// A scheduler frozen with `kill -STOP` (a debugger, a machine swapping to
// death, a stuck disk): every client gives up at its deadline with one line,
// and once the scheduler runs again nothing those clients sent is carried out,
// because every request carries its deadline and none starts after it.

/** Small, so that the test is quick; the default is 30 s. */
const timeout = '2s';
const timeoutMs = 2000;
/** Beyond its deadline, what a client may take to start and to exit on a machine ten times slower than usual. */
const room = 10_000;
const env = {JOBDECK_REQUEST_TIMEOUT: timeout};

let sandbox: Sandbox | undefined;
let frozen: number | undefined;

afterEach(async () => {
	if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
	frozen = undefined;
	await sandbox?.cleanup();
	sandbox = undefined;
});

type Timed = CommandResult & {args: string[]; tookMs: number; endedAt: number};

function timed(box: Sandbox, args: string[], from = performance.now()): Promise<Timed> {
	return box.run(args, {env}).then(result => ({...result, args, tookMs: performance.now() - from, endedAt: performance.now()}));
}

function expectOneLine(result: Timed, pattern: RegExp): void {
	const what = `jobdeck ${result.args.join(' ')}: exit ${result.exitCode}, stderr ${JSON.stringify(result.stderr)}`;
	expect(result.exitCode, what).not.toBe(0);
	expect(result.stderr, what).toMatch(new RegExp(`^jobdeck: ${pattern.source}\\n$`));
}

describe('a scheduler under kill -STOP', () => {
	it('every client gives up at its deadline with one line, and after kill -CONT nothing they sent was carried out', async () => {
		const box = createSandbox('jobdeck-frozen-');
		sandbox = box;
		box.script('long.sh', '#!/bin/sh\necho started\nexec sleep 600\n');
		box.script('ok.sh', '#!/bin/sh\necho ok\n');
		const scheduler = await box.startScheduler();
		const pid = scheduler.process.pid!;
		expect((await box.run(['add-worker', '--skip-ssh-check', 'w1'])).exitCode).toBe(0);
		const runningId = await addJob(box, ['./long.sh']);
		await waitForStatus(box, status => status.running.some(run => run.id === runningId && run.pid !== undefined));

		// The long-lived clients, started while the scheduler answers. One that has not subscribed yet when it freezes
		// meets the deadline of its request instead of the missing heartbeat: either way, one line.
		const events = timed(box, ['events']);
		// logs -f prints the log only once it has subscribed: when its output shows, it is attached, and must notice the missing heartbeat.
		const follower = execa('node', [cliPath, 'logs', '-f', String(runningId)], {cwd: box.dir, env: {JOBDECK_DATA_DIR: box.dataDir, ...env}, reject: false, stdin: 'ignore'});
		let followed = '';
		follower.stdout.setEncoding('utf8');
		follower.stdout.on('data', (chunk: string) => {
			followed += chunk;
		});
		await waitFor(() => followed.includes('started'), undefined, `logs -f to print the log; it printed ${JSON.stringify(followed)}`);
		const waiting = timed(box, ['wait', String(runningId)]);
		expect((await box.run(['add-worker', '--skip-ssh-check', 'w2'])).exitCode).toBe(0);
		const before = await statusOf(box);
		const lastId = Math.max(...before.queue.map(job => job.id), ...before.running.map(run => run.id));

		process.kill(pid, 'SIGSTOP');
		frozen = pid;
		const frozenAt = performance.now();
		const short = await Promise.all([
			timed(box, ['add-job', './ok.sh', 'late-1']),
			timed(box, ['add-job', './ok.sh', 'late-2']),
			timed(box, ['status']),
			timed(box, ['status', '--json']),
			timed(box, ['logs', String(runningId)]),
			timed(box, ['stop']),
		]);
		for (const result of short) {
			expectOneLine(result, /the scheduler at \S+ did not answer in 2 s; the request was not carried out/);
			// It waited its deadline, and not much longer.
			expect(result.tookMs, result.args.join(' ')).toBeGreaterThanOrEqual(timeoutMs);
			expect(result.tookMs, result.args.join(' ')).toBeLessThan(timeoutMs + room);
		}

		const followResult = await follower;
		const followEnd = performance.now();
		expect(followResult.exitCode, followResult.stderr).toBe(1);
		expect(followResult.stderr).toMatch(/^jobdeck: the scheduler at \S+ stopped answering: nothing from it in 2 s\n?$/);
		expect(followEnd - frozenAt).toBeLessThan(timeoutMs + room);
		for (const result of await Promise.all([events, waiting])) {
			expectOneLine(result, /the scheduler at \S+ (stopped answering: nothing from it in 2 s|did not answer in 2 s; the request was not carried out)/);
			// Measured from the freeze: the heartbeats stopped then.
			expect(result.endedAt - frozenAt, result.args.join(' ')).toBeLessThan(timeoutMs + room);
		}

		process.kill(pid, 'SIGCONT');
		frozen = undefined;
		// The requests wait in the socket; the scheduler reads them first thing, and refuses each as past its deadline.
		// A job added now comes after anything they could have queued: its id tells whether they were.
		const freshId = await addJob(box, ['./ok.sh', 'fresh']);
		expect(freshId).toBe(lastId + 1);
		const after = await statusOf(box);
		expect(after.scheduler.running).toBe(true);
		expect(isAlive(pid)).toBe(true);
		const everything = JSON.stringify([after.queue, after.running, after.finished]);
		expect(everything).not.toMatch(/late-[12]/);
		expect(after.running.map(run => run.id)).toContain(runningId);
	});
});
