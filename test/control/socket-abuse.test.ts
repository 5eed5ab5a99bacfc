import {readFileSync} from 'node:fs';
import {createConnection, type Socket} from 'node:net';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {protocolVersion} from '../../source/control/protocol.js';
import {defaultCancelGraceMs} from '../../source/core/scheduler.js';
import {addJob, createSandbox, defaultWaitMs, isAlive, statusOf, waitFor, waitForStatus, type Sandbox, type SchedulerProcess} from '../helpers/jobdeck.js';

// The control socket from a client that does not play by the rules: garbage,
// giant lines, wrong types, clients that never write, never read, or vanish
// mid-request. The scheduler answers what it can, closes what it must, and
// keeps serving everybody else with its memory and its state intact.

const mib = 1024 * 1024;
/** The idle timeout the scheduler gets here (JOBDECK_CLIENT_IDLE_MS), instead of 30 s. */
const idleMs = 1500;
/** How much unread output a client may leave (JOBDECK_CLIENT_MAX_UNREAD_BYTES), instead of 64 MiB, so that no test need write 64 MiB of jobs. */
const maxUnread = 8 * mib;

/** A line from the scheduler: a reply (to the request with that id, or to none: null) or a batch of events. */
type ControlLine<Result = unknown> = {
	id?: number | null;
	result?: Result;
	error?: {message: string; user?: boolean};
	events?: Array<{type: string}>;
};

type Connection = {
	socket: Socket;
	/** The next reply or event batch, parsed; Result is what the test expects a reply's result to be. */
	next<Result = unknown>(timeoutMs?: number): Promise<ControlLine<Result>>;
	/** Resolves when the connection has closed, from either side. */
	closed: Promise<void>;
	isClosed(): boolean;
	write(data: string | Buffer): boolean;
};

let sandbox: Sandbox;
let scheduler: SchedulerProcess;
let socketPath: string;
let queuedId: number;
/** `status --json` before the refusals, to compare with after them all. */
let statusBefore: string;

async function connect(): Promise<Connection> {
	const socket = createConnection(socketPath);
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	socket.on('error', () => undefined);
	let buffer = '';
	const lines: string[] = [];
	let closed = false;
	socket.setEncoding('utf8');
	socket.on('data', (chunk: string) => {
		buffer += chunk;
		for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n')) {
			lines.push(buffer.slice(0, newline));
			buffer = buffer.slice(newline + 1);
		}
	});
	return {
		socket,
		async next<Result>(timeoutMs = defaultWaitMs) {
			await waitFor(() => lines.length > 0, timeoutMs, 'a line from the scheduler');
			return JSON.parse(lines.shift()!) as ControlLine<Result>;
		},
		closed: new Promise(resolve => {
			socket.on('close', () => {
				closed = true;
				resolve();
			});
		}),
		isClosed: () => closed,
		write: data => socket.write(data),
	};
}

const request = (id: number, method: string, params: unknown[] = []) => JSON.stringify({v: protocolVersion, id, method, params}) + '\n';

/**
 * What the scheduler holds (its snapshot, asked over the socket: a `status --json` is a node process to
 * start, twice a refusal) and its journal, byte for byte: neither may change on a refused request. Every
 * change is journalled before it is acknowledged; the last test also compares what `status --json` says.
 */
async function stateNow(): Promise<{snapshot: unknown; journal: string}> {
	const connection = await connect();
	try {
		connection.write(request(0, 'snapshot'));
		const reply = await connection.next();
		expect(reply.error).toBeUndefined();
		return {snapshot: reply.result, journal: readFileSync(join(sandbox.dataDir, 'journal.jsonl'), 'latin1')};
	} finally {
		connection.socket.destroy();
	}
}

/** Resident memory of the scheduler, and its peak so far, in bytes. */
function memoryOf(pid: number): {rss: number; peak: number} {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
	return {rss: field('VmRSS'), peak: field('VmHWM')};
}

/** The scheduler answers another client, through the command line (which gives up after a minute: a scheduler that hangs fails it). */
async function expectServing(): Promise<void> {
	const result = await sandbox.run(['status', '--json']);
	expect(result.exitCode, result.stderr).toBe(0);
	expect((JSON.parse(result.stdout) as {scheduler: {running: boolean}}).scheduler.running).toBe(true);
}

beforeAll(async () => {
	sandbox = createSandbox('jobdeck-socket-');
	scheduler = await sandbox.startScheduler([], {env: {JOBDECK_CLIENT_IDLE_MS: String(idleMs), JOBDECK_CLIENT_MAX_UNREAD_BYTES: String(maxUnread)}});
	socketPath = join(sandbox.dataDir, 'control.sock');
	sandbox.script('ok.sh', '#!/bin/sh\necho ok\n');
	expect((await sandbox.run(['add-worker', '--skip-ssh-check', 'w1', 'w2'])).exitCode).toBe(0);
	expect((await sandbox.run(['pause'])).exitCode).toBe(0);
	queuedId = await addJob(sandbox, ['./ok.sh', 'queued']);
	statusBefore = JSON.stringify(await statusOf(sandbox));
});

afterAll(async () => {
	// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
	await sandbox?.cleanup();
});

describe('requests that are not requests', () => {
	it('answers a malformed line with an error and goes on serving the same connection and others', async () => {
		const before = await stateNow();
		const connection = await connect();
		const garbage: Array<string | Buffer> = [
			'{not json',
			'[]',
			'null',
			'42',
			'"a string"',
			'{}',
			`{"v":${protocolVersion},"id":"1","method":"snapshot"}`,
			`{"v":${protocolVersion},"method":"snapshot"}`,
			'\u0000\u0001\u001B[2J',
			Buffer.from([0xFF, 0xFE, 0xC0, 0x80]),
			`${'['.repeat(100_000)}${']'.repeat(100_000)}`,
		];
		for (const line of garbage) {
			connection.write(typeof line === 'string' ? `${line}\n` : Buffer.concat([line, Buffer.from('\n')]));
			expect(await connection.next()).toEqual({id: null, error: {message: 'malformed request: not a JSON request line', user: true}});
		}

		// Blank lines are no requests at all: nothing comes back for them.
		connection.write('\n\n  \n');
		connection.write(request(7, 'snapshot'));
		const reply = await connection.next<{workers: Array<{name: string}>}>();
		expect(reply.id).toBe(7);
		expect(reply.result?.workers.map(worker => worker.name)).toEqual(['w1', 'w2']);
		expect(connection.isClosed()).toBe(false);
		await expectServing();
		expect(await stateNow()).toEqual(before);
		connection.socket.destroy();
	});

	it('refuses an unknown method and a wrong protocol version by name, and changes nothing', async () => {
		const before = await stateNow();
		const connection = await connect();
		for (const [id, method] of ['bogus', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'then', 'Snapshot', ''].entries()) {
			connection.write(request(id, method));
			expect(await connection.next()).toEqual({id, error: {message: `unknown method ${JSON.stringify(method)}`, user: true}});
		}

		for (const [id, v] of [protocolVersion - 1, protocolVersion + 1, 0, String(protocolVersion), null, 'left out'].entries()) {
			const line = {v, id: 100 + id, method: 'setPaused', params: [false]};
			if (v === 'left out') delete (line as Partial<typeof line>).v;
			connection.write(JSON.stringify(line) + '\n');
			const reply = await connection.next();
			expect(reply.id).toBe(100 + id);
			expect(reply.error?.message).toMatch(new RegExp(`^this scheduler speaks control protocol ${protocolVersion}, the client .*: use the same jobdeck version for both$`));
		}

		expect(await stateNow()).toEqual(before);
		connection.socket.destroy();
	});

	// The engine trusts its callers' types; over the socket anybody's JSON arrives. Before the control
	// server checked them, setPaused("yes") saved `"paused": "yes"`, setWorkersDrained(["w1"], "no")
	// drained w1, removeWorkers(["w1"], "bogus") removed it, and skipSshCheck: "no" skipped the check.
	it.each(([
		['setPaused', ['yes'], /setPaused takes true or false/],
		['setPaused', [], /setPaused takes true or false/],
		['setPaused', [0], /setPaused takes true or false/],
		['setWorkersDrained', [['w1'], 'no'], /setWorkersDrained takes a list of names and true or false/],
		['setWorkersDrained', ['w1', true], /setWorkersDrained takes a list of names/],
		['removeWorkers', [['w1'], 'bogus'], /removeWorkers takes a list of names and "now", "wait" or "kill"/],
		['removeWorkers', [['w1']], /removeWorkers takes/],
		['removeWorkers', ['w1', 'now'], /removeWorkers takes/],
		['addWorkers', [null], /addWorkers takes/],
		['addWorkers', [{workers: 'w9'}], /addWorkers takes/],
		['addWorkers', [{workers: [{name: 5}]}], /addWorkers takes/],
		['addWorkers', [{workers: [{name: 'w9'}], skipSshCheck: 'no'}], /addWorkers takes/],
		['addWorkers', [{workers: [{name: 'bad\u001B[2Jname'}], skipSshCheck: true}], /contains a control character/],
		['addWorkers', [{workers: [{name: 'w9', slots: 1.5}], skipSshCheck: true}], /slots must be a whole number/],
		['addWorkers', [{workers: [{name: 'w9', env: {JOB_ID: '1'}}], skipSshCheck: true}], /JOB_ID is reserved/],
		['addWorkers', [{workers: [{name: 'w1'}], skipSshCheck: true}], /worker "w1" already exists/],
		['addJobs', [null], /addJobs takes a list of jobs/],
		['addJobs', ['x'], /addJobs takes a list of jobs/],
		['addJobs', [[null]], /addJobs takes a list of jobs/],
		['addJobs', [[]], /no job given/],
		['addJobs', [[{script: './ok.sh', cwd: 'relative'}]], /the job's directory must be an absolute path/],
		['addJobs', [[{script: './ok.sh', cwd: '/nonexistent-dir'}]], /the job's directory \/nonexistent-dir does not exist/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', args: 'not a list'}]], /arguments must be a list of strings/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', args: [1]}]], /arguments must be a list of strings/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', args: ['a\u0000b']}]], /an argument contains a NUL byte/],
		// One argument of 1 MB: the command line cannot carry it (the kernel refuses it), the socket can.
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', args: ['m'.repeat(mib)]}]], /an argument is longer than 128 KiB/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', env: {X: 1}}]], /env X must be a string/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX'}, {script: 'gone.sh', cwd: 'SANDBOX'}]], /gone\.sh does not exist/],
		['removeJobs', [null], /removeJobs takes/],
		['removeJobs', [{ids: ['1']}], /removeJobs takes/],
		['removeJobs', [{ids: [-1]}], /removeJobs takes/],
		['removeJobs', [{script: 'ok.sh'}], /removeJobs takes/],
		['cancelJobs', [['1']], /cancelJobs takes a list of job ids and a grace in milliseconds/],
		['cancelJobs', [[1.5]], /cancelJobs takes/],
		['cancelJobs', [['QUEUED'], 'banana'], /cancelJobs takes/],
		['cancelJobs', [['QUEUED'], -1], /cancelJobs takes/],
		['cancelJobs', [[999_999]], /job 999999 is neither queued nor running/],
		['retryJobs', ['1'], /retryJobs takes a list of job ids/],
		['retryJobs', [[999_999]], /job 999999 has never run here/],
		['addWorkers', [{workers: [{name: 'w9', tags: 'gpu'}], skipSshCheck: true}], /tags must be a list of strings/],
		['addWorkers', [{workers: [{name: 'w9', tags: [7]}], skipSshCheck: true}], /a tag must be a string/],
		['addWorkers', [{workers: [{name: 'w9', tags: ['g\u0007']}], skipSshCheck: true}], /contains a control character/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', needs: ['']}]], /a tag is empty/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', priority: 'high'}]], /priority must be a whole number/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', priority: 1.5}]], /priority must be a whole number/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', after: 'QUEUED'}]], /--after must be a list of job ids/],
		['addJobs', [[{script: 'ok.sh', cwd: 'SANDBOX', after: [999_999]}]], /--after: job 999999 is not known/],
		['tagWorkers', [['w1'], 'gpu', []], /tagWorkers takes a list of names, a list of tags to add and a list to remove/],
		['tagWorkers', [['nobody'], ['gpu'], []], /there is no worker named "nobody"/],
		['tagWorkers', [['w1'], [''], []], /a tag is empty/],
		['tagWorkers', [['w1'], [], []], /no tag given/],
		['setJobPriority', [['1'], 5], /setJobPriority takes a list of job ids and a priority/],
		['setJobPriority', [['QUEUED'], 'high'], /priority must be a whole number/],
		['setJobPriority', [[999_999], 5], /job 999999 is not queued/],
		['loadStatus', [{workers: [], queue: []}], /loadStatus takes a status and the directory/],
		['loadStatus', [[], 'SANDBOX'], /the status is not a JSON object/],
		['finishedRuns', [], /finishedRuns takes \{jobs: \[job ids\]\} or \{newest: a count or "all"\}/],
		['finishedRuns', [{jobs: ['1']}], /finishedRuns takes/],
		['finishedRuns', [{newest: -1}], /finishedRuns takes/],
		['finishedRuns', [{newest: 'some'}], /finishedRuns takes/],
		['queuePage', [{offset: 0, limit: 10_001}], /queuePage takes \{offset, limit \(at most 10000\), filter\?: text\}/],
		['snapshot', [{queue: 'no'}], /snapshot takes \{queue\?: true or false\}/],
		['subscribe', [{queue: 'all'}], /subscribe takes \{queue\?: "jobs" or "counts"\}/],
		// Parameters are a list: an object in their place is no call of anything.
		['setPaused', {0: true} as unknown as unknown[], /setPaused takes its parameters as a list/],
	] as Array<[string, unknown[], RegExp]>).map(([method, params, message]) => ({method, params, message, label: JSON.stringify(params).replaceAll(/(.)\1{40,}/g, (run, character: string) => `${character}×${run.length}`)})))('refuses $method($label) with a user error and changes nothing', async ({method, params, message}) => {
		const before = await stateNow();
		const connection = await connect();
		const resolved = JSON.parse(JSON.stringify(params).replaceAll('"QUEUED"', String(queuedId)).replaceAll('"SANDBOX"', JSON.stringify(sandbox.dir))) as unknown[];
		connection.write(request(1, method, resolved));
		const reply = await connection.next();
		expect(reply.id).toBe(1);
		expect(reply.error?.message).toMatch(message);
		expect(reply.error?.user).toBe(true);
		expect(await stateNow()).toEqual(before);
		connection.socket.destroy();
	});

	it('after all of them, status --json says what it said before them', async () => {
		expect(JSON.stringify(await statusOf(sandbox))).toBe(statusBefore);
	});
});

describe('clients that misbehave', () => {
	it('refuses a 100 MB request line without a newline and closes it, without taking that memory', async () => {
		const pid = scheduler.process.pid!;
		const before = memoryOf(pid);
		const connection = await connect();
		const chunk = Buffer.alloc(mib, 'a');
		let sent = 0;
		while (sent < 100 && !connection.isClosed()) {
			sent++;
			if (!connection.write(chunk)) {
				await Promise.race([new Promise(resolve => connection.socket.once('drain', resolve)), connection.closed]);
			}
		}

		await connection.closed;
		// It stopped reading once the line passed the 64 MiB limit.
		expect(sent).toBeLessThan(100);
		expect(await connection.next()).toEqual({id: null, error: {message: 'request larger than 67108864 bytes', user: true}});
		const after = memoryOf(pid);
		expect(after.peak - before.peak, `peak RSS grew from ${before.peak} to ${after.peak}`).toBeLessThan(160 * mib);
		expect(isAlive(pid)).toBe(true);
		await expectServing();
	});

	it('serves others while a client connects and never writes, or stops mid-line, and closes both once idle', async () => {
		const silent = await connect();
		const halfway = await connect();
		halfway.write('{"v":2,"id":1,"method":"snap');
		await expectServing();
		const raw = await connect();
		raw.write(request(3, 'snapshot'));
		expect((await raw.next()).id).toBe(3);
		await Promise.all([silent.closed, halfway.closed, raw.closed].map(async closed => Promise.race([
			closed,
			new Promise((_resolve, reject) => {
				setTimeout(() => reject(new Error('an idle connection was not closed')), idleMs + 30_000);
			}),
		])));
	});

	it('keeps a subscriber connected past the idle timeout, and sends it the events', async () => {
		const subscriber = await connect();
		subscriber.write(request(1, 'subscribe'));
		expect(await subscriber.next()).toEqual({id: 1, result: true});
		// Not a sleep past the idle timeout but that timeout itself: a plain connection opened after the
		// subscriber's last word is closed by it, and the subscriber's own would have come first.
		const plain = await connect();
		await plain.closed;
		expect(subscriber.isClosed()).toBe(false);
		expect((await sandbox.run(['disable', 'w2'])).exitCode).toBe(0);
		expect((await sandbox.run(['enable', 'w2'])).exitCode).toBe(0);
		const batch = await subscriber.next();
		expect(batch.events?.map(event => event.type)).toContain('worker-updated');
		subscriber.socket.destroy();
	});

	it('stays healthy when 20 clients vanish mid-request', async () => {
		const before = await stateNow();
		const pid = scheduler.process.pid!;
		const vanishing = Array.from({length: 20}, async (_unused, index) => {
			const connection = await connect();
			const line = request(index, 'snapshot');
			switch (index % 4) {
				case 0: {
					connection.write(line.slice(0, 20));
					connection.socket.destroy();
					break;
				}

				case 1: {
					connection.write(line);
					connection.socket.destroy();
					break;
				}

				case 2: {
					// Half of a big request, the rest never comes.
					connection.write(request(index, 'addJobs', [[{script: 'ok.sh', cwd: sandbox.dir, args: ['x'.repeat(100_000)]}]]).slice(0, 60_000));
					connection.socket.destroy();
					break;
				}

				default: {
					connection.write(line + request(100 + index, 'subscribe') + line.slice(0, 15));
					connection.socket.end();
				}
			}

			await connection.closed;
		});
		await Promise.all(vanishing);
		expect(isAlive(pid)).toBe(true);
		await expectServing();
		const connection = await connect();
		connection.write(request(1, 'snapshot'));
		expect((await connection.next<{queue: Array<{id: number}>}>()).result?.queue.map(job => job.id)).toEqual([queuedId]);
		connection.socket.destroy();
		expect(await stateNow()).toEqual(before);
		expect(scheduler.output()).not.toMatch(/error|unexpected/i);
	});

	it('does not buffer the replies of a client that sends requests faster than it reads them', async () => {
		const pid = scheduler.process.pid!;
		const before = memoryOf(pid);
		const flooding = await connect();
		flooding.socket.pause();
		const lines = request(1, 'snapshot').repeat(1000);
		let sent = 0;
		// 200,000 snapshot requests, each answered with the whole state: unread, that was 240 MB of replies.
		while (sent < 200_000 && !flooding.isClosed()) {
			sent += 1000;
			if (!flooding.write(lines)) {
				await Promise.race([new Promise(resolve => flooding.socket.once('drain', resolve)), flooding.closed, new Promise(resolve => setTimeout(resolve, 200))]);
			}

			if (sent === 20_000) await expectServing();
		}

		await expectServing();
		expect(memoryOf(pid).rss - before.rss, 'RSS growth').toBeLessThan(64 * mib);
		flooding.socket.destroy();
	});

	it('drops a subscriber that stopped reading once its unread events pass the limit (64 MiB; 8 MiB here)', async () => {
		const stalled = await connect();
		let received = 0;
		stalled.socket.on('data', (chunk: string) => {
			received += Buffer.byteLength(chunk);
		});
		stalled.write(request(1, 'subscribe'));
		expect(await stalled.next()).toEqual({id: 1, result: true});
		// Ctrl-Z on `jobdeck logs -f`: it reads nothing more.
		stalled.socket.pause();
		const before = received;
		// Each batch queues 100 jobs with one 20 KiB argument each, a 2 MB event, and removes them again: 3 × the limit in all.
		const driver = await connect();
		const jobs = Array.from({length: 100}, () => ({script: 'ok.sh', cwd: sandbox.dir, args: ['b'.repeat(20 * 1024)]}));
		const batches = 12;
		for (let batch = 0; batch < batches; batch++) {
			driver.write(request(batch, 'addJobs', [jobs]));
			const added = await driver.next<Array<{id: number}>>(defaultWaitMs);
			expect(added.error).toBeUndefined();
			driver.write(request(batch, 'removeJobs', [{ids: added.result?.map(job => job.id)}]));
			expect((await driver.next(defaultWaitMs)).error).toBeUndefined();
		}

		driver.socket.destroy();
		stalled.socket.resume();
		await Promise.race([stalled.closed, new Promise((_resolve, reject) => {
			setTimeout(() => reject(new Error('the stalled subscriber is still connected')), 30_000);
		})]);
		// What reached it before it was dropped (what the kernel buffered), not the 24 MB of events.
		expect(received - before).toBeLessThan(maxUnread);
		await expectServing();
		expect((await statusOf(sandbox)).queue.map(job => job.id)).toEqual([queuedId]);
	});
});

describe('cancelJobs over the socket', () => {
	it('gives a job the default grace when the client leaves the grace out (JSON sends null for it)', async () => {
		const own = createSandbox('jobdeck-socket-grace-');
		try {
			await own.startScheduler();
			own.script('stubborn.sh', '#!/bin/sh\ntrap "echo got TERM" TERM\necho ready\nwhile :; do sleep 0.1; done\n');
			expect((await own.run(['add-worker', '--skip-ssh-check', 'w1'])).exitCode).toBe(0);
			const id = await addJob(own, ['./stubborn.sh']);
			const status = await waitForStatus(own, view => view.running.some(run => run.id === id && run.pid !== undefined));
			const {logFile} = status.running[0]!;
			await waitFor(() => readFileSync(logFile, 'utf8').includes('ready'));
			const socket = createConnection(join(own.dataDir, 'control.sock'));
			await new Promise(resolve => socket.once('connect', resolve));
			// What SchedulerClient.cancelJobs(ids) sends: [ids, undefined] becomes [ids, null].
			socket.write(JSON.stringify({v: protocolVersion, id: 1, method: 'cancelJobs', params: [[id], undefined]}) + '\n');
			await waitFor(() => readFileSync(logFile, 'utf8').includes('got TERM'), undefined, 'SIGTERM');
			// The SIGKILL the scheduler planned, by its own record (asked on the same socket, no command to start):
			// with a grace of null (0) it would follow SIGTERM at once.
			let replies = '';
			socket.setEncoding('utf8');
			socket.on('data', (chunk: string) => {
				replies += chunk;
			});
			socket.write(JSON.stringify({v: protocolVersion, id: 2, method: 'snapshot', params: []}) + '\n');
			type Reply = {id: number; result: {runningJobs: Array<{id: number; cancelRequestedAt?: number; cancelKillAt?: number}>}};
			const snapshot = await waitFor(() => replies.split('\n').slice(0, -1).map(line => JSON.parse(line) as Reply).find(reply => reply.id === 2), undefined, () => `the snapshot; got ${replies}`);
			const cancelling = snapshot.result.runningJobs.find(run => run.id === id);
			expect(cancelling, 'the job still running after SIGTERM').toBeDefined();
			expect(cancelling!.cancelKillAt! - cancelling!.cancelRequestedAt!).toBe(defaultCancelGraceMs);
			socket.destroy();
		} finally {
			await own.cleanup();
		}
	});
});
