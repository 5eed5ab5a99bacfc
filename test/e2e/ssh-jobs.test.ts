import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import type {FinishedRun} from '../../source/core/model.js';
import type {StatusJson} from '../../source/core/status-json.js';
import {childrenOf} from '../../source/engine/job-process.js';
import {readHistoryFrom} from '../../source/engine/state/history-file.js';
import {stateFiles} from '../../source/engine/state/state-store.js';
import {createSandbox, eventIs, waitFor, type Sandbox, type SchedulerProcess} from '../helpers/jobdeck.js';
import {checkSshd, listProcesses, startSshFleet, type ProcessInfo, type SshFleet, type SshServer} from '../helpers/sshd.js';

// The README's example jobs, end to end, through a real scheduler process and
// real OpenSSH servers on loopback: every data file goes to a worker with
// rsync, wc runs there over ssh, the result comes back with rsync, and every
// result is checked. Each worker is its own sshd (127.0.0.2, .3, .4, .5) with
// its own "remote" directory, so a result can only be right if it made the
// round trip through that worker.

const examples = resolve(import.meta.dirname, '../../examples');
const simpleJob = join(examples, 'simple-job.sh');
const robustJob = join(examples, 'robust-job.sh');
const hostPortJob = join(examples, 'host-port-job.sh');

const sshd = checkSshd();
if (!sshd.available) {
	console.warn(`\n${'!'.repeat(100)}\nSKIPPED: the ssh end-to-end tests (real sshd, ssh, rsync) cannot run here: ${sshd.reason}.\nThey are reported as skipped, NOT passed. CI must run them: .ci/run installs openssh-server and rsync.\n${'!'.repeat(100)}\n`);
	if (process.env['JOBDECK_REQUIRE_SSHD'] === '1') {
		test('sshd is required here (JOBDECK_REQUIRE_SSHD=1)', () => {
			expect.fail(`sshd cannot run: ${sshd.reason}`);
		});
	}
}

describe.skipIf(!sshd.available)('example job scripts over real ssh', () => {
	let fleet: SshFleet;
	const sandboxes: Sandbox[] = [];

	beforeAll(async () => {
		fleet = await startSshFleet([
			{name: 'a', address: '127.0.0.2'},
			{name: 'b', address: '127.0.0.3'},
			{name: 'c', address: '127.0.0.4'},
			{name: 'doomed', address: '127.0.0.5'},
		]);
	});

	afterEach(async () => {
		for (const sandbox of sandboxes.splice(0)) await sandbox.cleanup();
	});

	afterAll(async () => {
		// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
		await fleet?.stop();
	});

	/** A sandbox with a running scheduler whose ssh check uses `configFile`. */
	async function schedulerWith(hosts: Parameters<SshFleet['writeClientConfig']>[1]) {
		const sandbox = createSandbox('jobdeck-ssh-');
		sandboxes.push(sandbox);
		const config = fleet.writeClientConfig(join(sandbox.dir, 'ssh_config'), hosts);
		const scheduler = await sandbox.startScheduler(['--json'], {env: {JOBDECK_SSH_CONFIG: config}});
		mkdirSync(join(sandbox.dir, 'data'));
		return {sandbox, config, scheduler};
	}

	/** A "remote machine" directory for a worker: only that worker's scripts write there. */
	function remoteDir(sandbox: Sandbox, worker: string): string {
		const dir = join(sandbox.dir, 'remote', worker.replaceAll(/[^\w.-]/g, '_'));
		mkdirSync(dir, {recursive: true});
		return dir;
	}

	async function addWorker(sandbox: Sandbox, args: string[]): Promise<void> {
		const result = await sandbox.run(['add-worker', ...args]);
		expect(result, `add-worker ${args.join(' ')}`).toMatchObject({exitCode: 0});
		expect(result.stdout).toMatch(/^added worker /);
	}

	test('the simple and the robust example process 32 files across 3 workers (4 slots), and every result comes back right', async () => {
		const started = Date.now();
		const {sandbox, config} = await schedulerWith([
			{host: '127.0.0.2', server: 'a'},
			{host: '127.0.0.3', server: 'b'},
			{host: 'node-c', server: 'c'},
		]);
		// The README's way (IP addresses), and an ssh config alias; each passes the real ssh check.
		const workers = {'127.0.0.2': 'a', '127.0.0.3': 'b', 'node-c': 'c'} as const;
		await addWorker(sandbox, ['--slots', '2', '-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remoteDir(sandbox, '127.0.0.2')}`, '127.0.0.2']);
		await addWorker(sandbox, ['-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remoteDir(sandbox, '127.0.0.3')}`, '127.0.0.3']);
		await addWorker(sandbox, ['-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remoteDir(sandbox, 'node-c')}`, 'node-c']);
		const connectionsBefore = new Map(Object.values(workers).map(server => [server, acceptedLogins(fleet.server(server))]));

		const files = makeDataFiles(sandbox, 32);
		const jobs = await addJobs(sandbox, files.map((file, index) => [index % 2 === 0 ? simpleJob : robustJob, `data/${file.name}`]));
		const status = await waitForAllFinished(sandbox, jobs.length, 200_000);

		const runs = runsByJob(status, jobs);
		for (const [index, file] of files.entries()) {
			const run = runs.get(jobs[index]!)!;
			expect(run, `job ${run.id} (${file.name}) on ${run.worker}: see ${run.logFile}:\n${readLog(run)}`).toMatchObject({outcome: 'succeeded', exitCode: 0, signal: null});
			const remote = remoteDir(sandbox, run.worker);
			// wc ran on the worker, in that worker's directory: its output names the remote path.
			const remotePath = run.script === simpleJob ? `${remote}/${file.name}.txt` : `${remote}/jobdeck-${run.runId}/${file.name}.txt`;
			expect(readResult(sandbox, file.name), `${file.name}.out`).toEqual({...file.counts, path: remotePath});
		}

		// Every worker took part, and its sshd saw every connection its jobs made:
		// 4 per simple job (rsync, ssh wc, rsync, ssh rm), 5 per robust one (+ mkdir).
		for (const [worker, server] of Object.entries(workers)) {
			const on = [...runs.values()].filter(run => run.worker === worker);
			expect(on.length, `jobs on ${worker}`).toBeGreaterThan(0);
			const expected = on.reduce((sum, run) => sum + (run.script === simpleJob ? 4 : 5), 0);
			expect(acceptedLogins(fleet.server(server)) - connectionsBefore.get(server)!, `ssh logins on ${worker}`).toBe(expected);
			// Both examples clean up after themselves on the worker.
			expect(readdirSync(remoteDir(sandbox, worker)), `left on ${worker}`).toEqual([]);
		}

		// No partial results or stray copies here either.
		expect(readdirSync(join(sandbox.dir, 'data')).filter(name => !/^part-\d+\.(txt|out)$/.test(name))).toEqual([]);
		console.log(`ssh e2e: ${jobs.length} jobs, ${files.length} files in and out over rsync, 3 workers (4 slots), ${((Date.now() - started) / 1000).toFixed(1)} s`);
	}, 240_000);

	test('the host-port example reaches workers named user@host:port, host:port, or given -e PORT= -e USER=', async () => {
		const started = Date.now();
		// No Host entries: the port and user can only come from the worker's name or env.
		const {sandbox, config} = await schedulerWith([]);
		const a = fleet.server('a');
		const b = fleet.server('b');
		const c = fleet.server('c');
		const workers = {
			[`root@127.0.0.2:${a.port}`]: a,
			[`127.0.0.3:${b.port}`]: b,
			'127.0.0.4': c,
		};
		await addWorker(sandbox, ['-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remoteDir(sandbox, 'a')}`, `root@127.0.0.2:${a.port}`]);
		await addWorker(sandbox, ['-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remoteDir(sandbox, 'b')}`, `127.0.0.3:${b.port}`]);
		await addWorker(sandbox, ['-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remoteDir(sandbox, 'c')}`, '-e', `PORT=${c.port}`, '-e', 'USER=root', '127.0.0.4']);
		const remoteOf = (worker: string) => remoteDir(sandbox, workers[worker] === a ? 'a' : (workers[worker] === b ? 'b' : 'c'));
		const connectionsBefore = new Map([a, b, c].map(server => [server, acceptedLogins(server)]));

		const files = makeDataFiles(sandbox, 9);
		const jobs = await addJobs(sandbox, files.map(file => [hostPortJob, `data/${file.name}`]));
		const status = await waitForAllFinished(sandbox, jobs.length, 120_000);
		const runs = runsByJob(status, jobs);
		for (const [index, file] of files.entries()) {
			const run = runs.get(jobs[index]!)!;
			expect(run, `job ${run.id} on ${run.worker}:\n${readLog(run)}`).toMatchObject({outcome: 'succeeded', exitCode: 0});
			expect(readResult(sandbox, file.name)).toEqual({...file.counts, path: `${remoteOf(run.worker)}/jobdeck-${run.runId}/${file.name}.txt`});
		}

		for (const [worker, server] of Object.entries(workers)) {
			const on = [...runs.values()].filter(run => run.worker === worker).length;
			expect(on, `jobs on ${worker}`).toBeGreaterThan(0);
			// mkdir, rsync, ssh wc, rsync, rm: all on the port the worker's name or env gave.
			expect(acceptedLogins(server) - connectionsBefore.get(server)!).toBe(on * 5);
			expect(readdirSync(remoteOf(worker))).toEqual([]);
		}

		console.log(`ssh e2e (host-port example): ${jobs.length} jobs, 3 workers, ${((Date.now() - started) / 1000).toFixed(1)} s`);
	}, 180_000);

	describe('cancelling a job that runs a long remote command (ssh -tt … sleep 600)', () => {
		const leftovers: ProcessInfo[] = [];
		afterEach(() => {
			for (const leftover of leftovers.splice(0)) {
				// Only if that pid is still the remote sleep (not a recycled pid).
				if (!listProcesses().some(process => process.pid === leftover.pid && process.command === leftover.command)) continue;
				try {
					process.kill(leftover.pid, 'SIGKILL');
				} catch {
					// It ended since the look above.
				}
			}
		});

		// Room for the script's own clean-up over ssh on a slow machine: only a script that ignores SIGTERM needs it all.
		const graceMs = 30_000;

		/** Starts a job on worker c and waits until its remote sleep runs under c's sshd. */
		async function startLongJob(sandbox: Sandbox, script: string, env: string[] = []) {
			writeFileSync(join(sandbox.dir, 'data', 'slow.txt'), 'one two three\n');
			const [id] = await addJobs(sandbox, [[script, 'data/slow']], env);
			const server = fleet.server('c');
			const remoteSleep = await waitFor(() => server.processes().find(process => /(^|\/)sleep 600$/.test(process.command)), 60_000, `the remote sleep of job ${id} under sshd c`);
			const run = await waitFor(async () => (await statusOf(sandbox)).running.find(candidate => candidate.id === id && candidate.pid), undefined, `job ${id} running`);
			return {id: id!, run, server, remoteSleep};
		}

		/** Cancels with a grace of `graceMs`; returns the finished run and when the scheduler recorded the cancel. */
		async function cancel(sandbox: Sandbox, scheduler: SchedulerProcess, id: number) {
			const result = await sandbox.run(['cancel', '--grace', `${graceMs}ms`, String(id)]);
			expect(result).toMatchObject({exitCode: 0});
			const finished = await waitFor(async () => (await statusOf(sandbox)).finished.find(run => run.id === id), graceMs + 60_000, `job ${id} to end`);
			const requested = scheduler.events().find(event => event.type === 'cancel-requested' && event.id === id);
			expect(requested, `the cancel-requested event of job ${id}`).toBeDefined();
			return {finished, cancelledAt: requested!.at};
		}

		for (const [what, command] of [
			['a plain remote command, ended by the hangup of its terminal', 'sleep 600 && wc'],
			['a remote command that ignores the hangup (nohup), ended through its pid file', 'nohup sleep 600 && wc'],
		] as const) {
			test(`the robust example stops ${what}, and cleans up the worker`, async () => {
				const {sandbox, config, scheduler} = await schedulerWith([{host: 'node-c', server: 'c'}]);
				const remote = remoteDir(sandbox, 'node-c');
				await addWorker(sandbox, ['-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remote}`, 'node-c']);
				const {id, run, server, remoteSleep} = await startLongJob(sandbox, robustJob, ['-e', `JOB_COMMAND=${command}`]);
				// Should this test fail, the remote sleep (reparented away from sshd by then) must not outlive it.
				leftovers.push(remoteSleep);
				expect(readdirSync(remote)).toEqual([`jobdeck-${run.runId}`]);
				// The job leads its own process group: the wrapper's (run.pid's) only child.
				const [jobGroup] = childrenOf(run.pid!);
				expect(listProcesses().filter(process => process.pgid === jobGroup).length).toBeGreaterThan(1);

				const {finished, cancelledAt} = await cancel(sandbox, scheduler, id);
				// The script handled SIGTERM itself (exit 143) within the grace, by the scheduler's own clock: no SIGKILL was needed.
				expect(finished, readLog(finished)).toMatchObject({outcome: 'cancelled', exitCode: null, signal: 'SIGTERM'});
				expect(finished.endedAt - cancelledAt).toBeLessThan(graceMs);
				// The remote process is gone, and nothing of the job is left on the worker…
				await waitFor(() => !listProcesses().some(process => process.pid === remoteSleep.pid), undefined, `remote sleep ${remoteSleep.pid} to end`);
				await waitFor(() => server.processes().length === 0, undefined, () => `sshd c to have no sessions left; it has ${JSON.stringify(server.processes())}`);
				expect(readdirSync(remote)).toEqual([]);
				// …nor here: the job's process group is empty, and no partial result was left.
				expect(listProcesses().filter(process => process.pgid === jobGroup)).toEqual([]);
				expect(existsSync(join(sandbox.dir, 'data', 'slow.out'))).toBe(false);
				expect(readLog(finished)).toContain('robust-job: cancelled; stopping the command on node-c');
			});
		}

		test('(control) a script that does not follow the pattern leaves its remote command running: the check above can fail', async () => {
			const {sandbox, config, scheduler} = await schedulerWith([{host: 'node-c', server: 'c'}]);
			await addWorker(sandbox, ['-e', `SSH_CONFIG=${config}`, 'node-c']);
			// No -tt, no trap: killing the local ssh does not reach the remote command.
			const naive = sandbox.script('naive-job.sh', '#!/bin/sh\nssh -F "$SSH_CONFIG" "$SLAVE_IP" "sleep 600"\n');
			const {id, server, remoteSleep} = await startLongJob(sandbox, naive);
			leftovers.push(remoteSleep);
			const {finished} = await cancel(sandbox, scheduler, id);
			expect(finished.outcome).toBe('cancelled');
			// Once its ssh session has ended on the worker, nothing is left that could stop the remote sleep: it is no longer under sshd c.
			await waitFor(() => !server.processes().some(process => process.pid === remoteSleep.pid), undefined, () => `the session of the remote sleep to end; under sshd c: ${JSON.stringify(server.processes())}`);
			expect(listProcesses().some(process => process.pid === remoteSleep.pid), 'the naive job\'s remote sleep survives the cancel').toBe(true);
		});
	});

	test('a worker that goes away mid-run: its jobs go back to the queue, it goes offline, and it comes back by itself when its sshd does', async () => {
		const sandbox = createSandbox('jobdeck-ssh-');
		sandboxes.push(sandbox);
		const config = fleet.writeClientConfig(join(sandbox.dir, 'ssh_config'), [
			{host: 'doomed', server: 'doomed'},
			{host: '127.0.0.2', server: 'a'},
			{host: '127.0.0.3', server: 'b'},
		]);
		// JSON events: the back-off is checked against the times the scheduler recorded, whatever the machine's speed.
		const recheckMs = 1000;
		const scheduler = await sandbox.startScheduler(['--json', '--offline-after', '2', '--recheck-offline', `${recheckMs}ms`], {env: {JOBDECK_SSH_CONFIG: config}});
		const doomedEvents = () => scheduler.events().filter(event => ('name' in event && event.name === 'doomed') || (event.type === 'job-started' && event.run.worker === 'doomed'));
		mkdirSync(join(sandbox.dir, 'data'));
		const doomed = fleet.server('doomed');
		const workerArgs = (name: string) => ['-e', `SSH_CONFIG=${config}`, '-e', `REMOTE_DIR=${remoteDir(sandbox, name)}`, name];
		await addWorker(sandbox, workerArgs('doomed'));
		writeFileSync(join(sandbox.dir, 'data', 'long.txt'), 'a long job\n');
		// Runs for ten minutes on doomed (the remote command starts in doomed's directory), at once anywhere else.
		const [longJob] = await addJobs(sandbox, [[robustJob, 'data/long']], ['-e', 'JOB_COMMAND=case $PWD in */doomed/*) sleep 600;; esac; wc']);
		await waitFor(() => doomed.processes().some(process => /(^|\/)sleep 600$/.test(process.command)), 60_000, () => `the long job running on doomed; its sshd's log:\n${doomed.log()}`);

		await addWorker(sandbox, workerArgs('127.0.0.2'));
		await addWorker(sandbox, workerArgs('127.0.0.3'));
		const files = makeDataFiles(sandbox, 10);
		const jobs = await addJobs(sandbox, files.map(file => [robustJob, `data/${file.name}`]));
		// Let the others get going, then the machine vanishes: sshd, its sessions and the remote command die.
		await waitFor(async () => (await statusOf(sandbox)).finished.length >= 2, 120_000, 'two jobs done on the live workers');
		const killedAt = Date.now();
		await doomed.kill();
		const offline = await scheduler.waitForEvents(events => events.find(eventIs('worker-offline', 'doomed')), 'doomed to go offline', 60_000);
		expect(offline).toMatchObject({exitCode: 255, runs: 2, nextCheckAt: offline.at + recheckMs});
		expect((await statusOf(sandbox)).workers.find(worker => worker.name === 'doomed')!.state).toBe('offline');

		// Its re-checks fail while it is gone, the wait between them doubling: two of them, then the machine comes back.
		await scheduler.waitForEvents(events => events.filter(eventIs('worker-recheck-failed', 'doomed')).length >= 2, 'two failed re-checks of doomed', 60_000);
		await fleet.revive('doomed');
		// The next re-check finds it, with no one touching jobdeck. It is due at most 8 s after the last failed one
		// (16 s should the revival have taken longer than a re-check's wait): the deadline has room for that on a slow machine.
		const online = await scheduler.waitForEvents(events => events.find(eventIs('worker-online', 'doomed')), 'doomed back online', 120_000);
		expect(online).toMatchObject({how: 'answered'});

		// The recorded sequence: offline, then re-checks that each came when due (not before) and failed,
		// each setting the next one twice as far off, then the one that found it answering. Nothing started on doomed meanwhile.
		const printed = doomedEvents().filter(event => event.type !== 'worker-updated');
		const rechecks = printed.slice(printed.findIndex(event => event.type === 'worker-offline') + 1, printed.findIndex(event => event.type === 'worker-online'));
		expect(rechecks.map(event => event.type)).toEqual(rechecks.map(() => 'worker-recheck-failed'));
		expect(rechecks.length).toBeGreaterThanOrEqual(2);
		let due = offline.nextCheckAt;
		for (const [index, recheck] of rechecks.entries()) {
			if (recheck.type !== 'worker-recheck-failed') continue;
			expect(recheck.at, `re-check ${index + 1} came when due`).toBeGreaterThanOrEqual(due);
			expect(recheck.nextCheckAt - recheck.at, `the wait after re-check ${index + 1}`).toBe(recheckMs * 2 ** (index + 1));
			expect(recheck.message).toMatch(/failed the ssh check/);
			due = recheck.nextCheckAt;
		}

		expect(online.at, 'the re-check that found it came when due').toBeGreaterThanOrEqual(due);
		// Back to work: idle, or already busy with a job still queued.
		const back = (await statusOf(sandbox)).workers.find(worker => worker.name === 'doomed')!;
		expect(back).toMatchObject({unreachableStreak: 0});
		expect(['idle', 'busy']).toContain(back.state);

		// Every job ends up done right, the long one included, though none has a retry: what failed on doomed
		// was doomed's failure, not the job's. (Back online, doomed may take what is still queued.)
		const status = await waitForAllFinished(sandbox, jobs.length + 3, 180_000);
		const allRuns = status.finished;
		const lostRuns = allRuns.filter(run => run.worker === 'doomed' && run.startedAt < online.at);
		// Offline, doomed took nothing more: two unreachable runs, then no job until it answered.
		expect(lostRuns).toHaveLength(2);
		for (const run of lostRuns) expect(run, readLog(run)).toMatchObject({outcome: 'failed', exitCode: 255, requeued: 'worker-unreachable'});
		expect(lostRuns.find(run => run.id === longJob)!.endedAt).toBeGreaterThanOrEqual(killedAt);
		expect(lostRuns.every(run => run.endedAt <= offline.at)).toBe(true);
		const finalRuns = runsByJob(status, [longJob!, ...jobs]);
		for (const run of finalRuns.values()) {
			expect(run, readLog(run)).toMatchObject({outcome: 'succeeded', exitCode: 0});
			expect(run.requeued).toBeUndefined();
		}

		// What ran on doomed ran after it came back.
		const onDoomed = [...finalRuns.values()].filter(run => run.worker === 'doomed');
		expect(onDoomed.filter(run => run.startedAt < online.at).map(run => run.id)).toEqual([]);

		for (const [index, file] of files.entries()) {
			const run = finalRuns.get(jobs[index]!)!;
			expect(readResult(sandbox, file.name)).toEqual({...file.counts, path: `${remoteDir(sandbox, run.worker)}/jobdeck-${run.runId}/${file.name}.txt`});
		}

		// Drain the live workers: the next job can only go to doomed, and it does its work there.
		expect(await sandbox.run(['disable', '127.0.0.2', '127.0.0.3'])).toMatchObject({exitCode: 0});
		writeFileSync(join(sandbox.dir, 'data', 'again.txt'), 'one two three\n');
		const [again] = await addJobs(sandbox, [[robustJob, 'data/again']]);
		const after = await waitForAllFinished(sandbox, allRuns.length + 1, 120_000);
		const againRun = after.finished.findLast(run => run.id === again)!;
		expect(againRun, readLog(againRun)).toMatchObject({worker: 'doomed', outcome: 'succeeded'});
		expect(readResult(sandbox, 'again')).toEqual({lines: 1, words: 3, bytes: 14, path: `${remoteDir(sandbox, 'doomed')}/jobdeck-${againRun.runId}/again.txt`});
		console.log(`ssh e2e (worker goes away): ${lostRuns.length} runs lost to the dead worker were queued again and done elsewhere; it went offline, failed ${rechecks.length} re-checks while down (waits ${rechecks.map(event => ('nextCheckAt' in event ? `${(event.nextCheckAt - event.at) / 1000}s` : '?')).join(', ')}), and came back online by itself`);
	}, 480_000);
});

// Helpers.

type DataFile = {name: string; counts: {lines: number; words: number; bytes: number}};

const vocabulary = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];

/** Writes data/part-NN.txt files of different sizes and returns what wc must say about each. */
function makeDataFiles(sandbox: Sandbox, count: number): DataFile[] {
	let seed = count * 7919;
	const random = () => {
		seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
		return seed / 2_147_483_648;
	};

	return Array.from({length: count}, (_unused, index) => {
		const name = `part-${String(index + 1).padStart(2, '0')}`;
		const lines = Array.from({length: 1 + Math.floor(random() * 400)}, () =>
			Array.from({length: Math.floor(random() * 12)}, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' '));
		const text = lines.join('\n') + '\n';
		writeFileSync(join(sandbox.dir, 'data', `${name}.txt`), text);
		return {name, counts: {lines: lines.length, words: text.split(/\s+/).filter(Boolean).length, bytes: Buffer.byteLength(text)}};
	});
}

/** Reads data/NAME.out, which must be one line of wc output: lines, words, bytes, path. */
function readResult(sandbox: Sandbox, name: string) {
	const text = readFileSync(join(sandbox.dir, 'data', `${name}.out`), 'utf8');
	expect(text.endsWith('\n') && text.trim().split('\n').length === 1, `${name}.out is one line: ${JSON.stringify(text)}`).toBe(true);
	const [lines, words, bytes, path, ...rest] = text.trim().split(/\s+/);
	expect(rest).toEqual([]);
	return {lines: Number(lines), words: Number(words), bytes: Number(bytes), path};
}

/** Queues jobs with `jobdeck add-job` (a few at a time) and returns their ids, in order. */
async function addJobs(sandbox: Sandbox, commands: string[][], env: string[] = []): Promise<number[]> {
	const ids: number[] = Array.from({length: commands.length});
	let next = 0;
	await Promise.all(Array.from({length: 3}, async () => {
		while (next < commands.length) {
			const index = next++;
			const result = await sandbox.run(['add-job', ...env, ...commands[index]!]);
			expect(result, `add-job ${commands[index]!.join(' ')}`).toMatchObject({exitCode: 0});
			ids[index] = Number(result.stdout.trim());
		}
	}));
	return ids;
}

async function statusOf(sandbox: Sandbox): Promise<StatusJson> {
	const result = await sandbox.run(['status', '--json']);
	expect(result, 'status --json').toMatchObject({exitCode: 0});
	return JSON.parse(result.stdout) as StatusJson;
}

/**
 * Waits until nothing is queued or running and `runs` runs are in the history, and returns
 * the status with `finished` replaced by the whole history (`status --json` lists only the
 * newest 20 finished runs).
 */
async function waitForAllFinished(sandbox: Sandbox, runs: number, timeoutMs: number): Promise<StatusJson> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const status = await statusOf(sandbox);
		const history = await readHistoryFrom(stateFiles(sandbox.dataDir).history, 0);
		if (status.queue.length === 0 && status.running.length === 0 && history.length >= runs) return {...status, finished: history};
		if (Date.now() > deadline) {
			const stuck = status.running.map(run => `job ${run.id} on ${run.worker} (JOB_ID ${run.runId}), log:\n${readLog(run)}`).join('\n');
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${runs} runs to finish: ${history.length} finished, ${status.queue.length} queued, ${status.running.length} running:\n${stuck}`);
		}

		await new Promise(resolveWait => {
			setTimeout(resolveWait, 500);
		});
	}
}

/** The latest run of each job. */
function runsByJob(status: StatusJson, ids: number[]): Map<number, FinishedRun> {
	const runs = new Map<number, FinishedRun>();
	for (const id of ids) {
		const run = status.finished.findLast(candidate => candidate.id === id);
		expect(run, `job ${id} finished`).toBeDefined();
		runs.set(id, run!);
	}

	return runs;
}

function readLog(run: {logFile: string}): string {
	try {
		return readFileSync(run.logFile, 'utf8');
	} catch {
		return '(no log)';
	}
}

/** How many logins this sshd accepted so far. */
function acceptedLogins(server: SshServer): number {
	return server.log().split('\n').filter(line => line.startsWith('Accepted publickey for root')).length;
}
