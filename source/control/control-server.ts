import {chmod, unlink} from 'node:fs/promises';
import {createServer, type Server, type Socket} from 'node:net';
import type {Scheduler, SchedulerEvent, SubscribeOptions} from '../core/scheduler.js';
import {lineReader} from '../core/line-reader.js';
import {UserError} from '../core/user-error.js';
import {
	controlSocketPath,
	maxRequestBytes,
	protocolVersion,
	schedulerMethods,
	type Request,
	type Response,
	type SchedulerMethod,
} from './protocol.js';

// Serves a scheduler on the control socket of its data dir, so that commands
// from other shells and UIs attached later drive the same scheduler.

/** Events to subscribers go out in batches, at most this often: at most 20 batches a second per subscriber. */
const eventBatchMs = 50;
/** The most jobs one `queuePage` request returns. */
const maxQueuePage = 10_000;
/** A connection idle this long is closed (subscribers excepted); JOBDECK_CLIENT_IDLE_MS overrides it, for tests. */
const idleTimeoutMs = positiveInteger(process.env.JOBDECK_CLIENT_IDLE_MS) ?? 30_000;
/** Requests one connection may have under way at once; the rest wait, and the socket is not read meanwhile. */
const maxRequestsInFlight = 16;
/**
 * A connection whose unread replies and events pile up beyond this is closed:
 * a client that stopped reading (a `jobdeck logs -f` suspended with Ctrl-Z)
 * must not grow the scheduler's memory without end. JOBDECK_CLIENT_MAX_UNREAD_BYTES
 * overrides it, for tests.
 */
const maxUnreadBytes = positiveInteger(process.env.JOBDECK_CLIENT_MAX_UNREAD_BYTES) ?? 64 * 1024 * 1024;

export type ControlServer = {
	readonly path: string;
	close(): Promise<void>;
};

export async function serveScheduler(scheduler: Scheduler, dataDir: string): Promise<ControlServer> {
	const path = controlSocketPath(dataDir);
	// The caller holds the data dir's lock, so a socket file here was left by a scheduler that died.
	await unlink(path).catch(() => undefined);
	const connections = new Set<Socket>();
	const inFlight = new Set<Promise<void>>();
	/** Sends each subscriber the events it has not had yet. */
	const flushes = new Set<() => void>();
	const server = createServer(socket => {
		connections.add(socket);
		socket.on('close', () => connections.delete(socket));
		handleConnection(scheduler, socket, inFlight, flushes);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(path, () => {
			server.off('error', reject);
			resolve();
		});
	});
	await chmod(path, 0o600);
	return {
		path,
		async close() {
			// Answer what was asked first: a `stop` request waits for its own reply.
			await Promise.all(inFlight);
			// The last events (`stopping`) tell subscribers that the end of the connection is no crash.
			for (const flush of flushes) flush();
			await closeServer(server, connections);
			await unlink(path).catch(() => undefined);
		},
	};
}

async function closeServer(server: Server, connections: Set<Socket>): Promise<void> {
	const closed = new Promise<void>(resolve => {
		server.close(() => resolve());
	});
	for (const socket of connections) socket.end();
	setTimeout(() => {
		for (const socket of connections) socket.destroy();
	}, 1000).unref();
	await closed;
}

function handleConnection(scheduler: Scheduler, socket: Socket, inFlight: Set<Promise<void>>, flushes: Set<() => void>): void {
	let refused = false;
	/** Complete request lines not started yet. */
	const waiting: string[] = [];
	let running = 0;
	let subscription: {flush(): void; unsubscribe(): void} | undefined;
	socket.setTimeout(idleTimeoutMs, () => {
		if (!subscription) socket.destroy();
	});
	socket.on('close', () => {
		if (subscription) {
			flushes.delete(subscription.flush);
			subscription.unsubscribe();
		}

		waiting.length = 0;
	});
	socket.on('error', () => undefined);
	socket.on('drain', () => {
		pump();
	});

	const send = (response: Response) => {
		if (socket.destroyed) return;
		if (socket.writableLength > maxUnreadBytes) {
			socket.destroy();
			return;
		}

		socket.write(JSON.stringify(response) + '\n');
	};

	/** Starts waiting requests while the client keeps up; reads on only once none waits. */
	const pump = () => {
		while (waiting.length > 0 && running < maxRequestsInFlight && !socket.writableNeedDrain && !socket.destroyed) {
			const handled = handleLine(waiting.shift()!);
			running++;
			inFlight.add(handled);
			void handled.finally(() => {
				inFlight.delete(handled);
				running--;
				pump();
			});
		}

		if (refused || socket.destroyed) return;
		// A client that sends faster than it reads the replies waits in its own socket buffer, not in our memory.
		if (waiting.length > 0) socket.pause();
		else socket.resume();
	};

	const readRequests = lineReader(line => waiting.push(line), {
		maxLineBytes: maxRequestBytes,
		onTooLong() {
			refused = true;
			waiting.length = 0;
			send({id: null, error: {message: `request larger than ${maxRequestBytes} bytes`, user: true}});
			socket.destroySoon();
			socket.pause();
		},
	});
	socket.on('data', (chunk: Buffer) => {
		if (refused) return;
		readRequests(chunk);
		pump();
	});

	async function handleLine(line: string): Promise<void> {
		if (line.trim() === '') return;
		let request: Request;
		try {
			request = JSON.parse(line) as Request;
			if (typeof request !== 'object' || request === null || typeof request.id !== 'number') throw new Error('not a request');
		} catch {
			send({id: null, error: {message: 'malformed request: not a JSON request line', user: true}});
			return;
		}

		if (request.v !== protocolVersion) {
			send({id: request.id, error: {message: `this scheduler speaks control protocol ${protocolVersion}, the client ${String(request.v)}: use the same jobdeck version for both`, user: true}});
			return;
		}

		try {
			send({id: request.id, result: await dispatch(request)});
		} catch (error) {
			send({id: request.id, error: {message: (error as Error).message, user: error instanceof UserError}});
		}
	}

	async function dispatch(request: Request): Promise<unknown> {
		if (request.method === 'subscribe') {
			const [options = undefined] = Array.isArray(request.params) ? request.params as unknown[] : [];
			if (!(options === undefined || options === null || (isObject(options) && [undefined, 'jobs', 'counts'].includes(options.queue as string)))) {
				throw new UserError('malformed request: subscribe takes {queue?: "jobs" or "counts"}');
			}

			if (!subscription) {
				subscription = subscribeInBatches(scheduler, events => send({events}), (options ?? undefined) as SubscribeOptions | undefined);
				flushes.add(subscription.flush);
			}

			return true;
		}

		if (!schedulerMethods.includes(request.method)) throw new UserError(`unknown method ${JSON.stringify(request.method)}`);
		const params = checkParams(request.method, Array.isArray(request.params) ? request.params : []);
		const method = scheduler[request.method] as (...args: unknown[]) => Promise<unknown>;
		return method.apply(scheduler, params);
	}
}

// The engine trusts its callers' types; a request is JSON from anybody's
// client, so the parameters whose type the engine takes on trust are checked
// here (a `"paused": "no"` would otherwise be saved and read as true). What
// the engine validates itself (worker names, slots, env, scripts, arguments)
// is left to it, so that every door refuses the same input with the same words.

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown): boolean => Array.isArray(value) && value.every(item => typeof item === 'string');
const isIdList = (value: unknown): boolean => Array.isArray(value) && value.every(item => Number.isSafeInteger(item) && (item as number) >= 0);

function checkParams(method: SchedulerMethod, params: unknown[]): unknown[] {
	const refuse = (expected: string): never => {
		throw new UserError(`malformed request: ${method} takes ${expected}`);
	};

	switch (method) {
		case 'snapshot': {
			const [options] = params;
			if (!(options === undefined || options === null || (isObject(options) && (options.queue === undefined || typeof options.queue === 'boolean')))) {
				refuse('{queue?: true or false}');
			}

			return options === null || options === undefined ? [] : [options];
		}

		case 'queuePage': {
			const [request] = params;
			const count = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;
			if (!isObject(request) || !count(request.offset) || !count(request.limit) || (request.limit as number) > maxQueuePage
				|| !(request.filter === undefined || (typeof request.filter === 'string' && request.filter.length <= 1000))) {
				refuse(`{offset, limit (at most ${maxQueuePage}), filter?: text}`);
			}

			break;
		}

		case 'addWorkers': {
			const [request] = params;
			if (!isObject(request) || !Array.isArray(request.workers) || !request.workers.every(worker => isObject(worker) && typeof worker.name === 'string')
				|| !(request.skipSshCheck === undefined || typeof request.skipSshCheck === 'boolean')) {
				refuse('{workers: [{name, slots?, env?}…], skipSshCheck?: boolean}');
			}

			break;
		}

		case 'removeWorkers': {
			if (!isStringList(params[0]) || !['now', 'wait', 'kill'].includes(params[1] as string)) refuse('a list of names and "now", "wait" or "kill"');
			break;
		}

		case 'setWorkersDrained': {
			if (!isStringList(params[0]) || typeof params[1] !== 'boolean') refuse('a list of names and true or false');
			break;
		}

		case 'tagWorkers': {
			if (!isStringList(params[0]) || !isStringList(params[1]) || !isStringList(params[2])) refuse('a list of names, a list of tags to add and a list to remove');
			break;
		}

		case 'setJobPriority': {
			// The priority itself is the engine's to check, with the command line's words.
			if (!isIdList(params[0])) refuse('a list of job ids and a priority');
			break;
		}

		case 'addJobs': {
			if (!Array.isArray(params[0]) || !params[0].every(isObject)) refuse('a list of jobs');
			break;
		}

		case 'removeJobs': {
			const [selector] = params;
			const valid = isObject(selector) && ('ids' in selector
				? isIdList(selector.ids)
				: typeof selector.script === 'string' && isStringList(selector.args) && typeof selector.cwd === 'string');
			if (!valid) refuse('{ids: [job ids]} or {script, args, cwd}');
			break;
		}

		case 'cancelJobs': {
			const [ids, graceMs] = params;
			if (!isIdList(ids) || !(graceMs === undefined || graceMs === null || (typeof graceMs === 'number' && Number.isFinite(graceMs) && graceMs >= 0))) {
				refuse('a list of job ids and a grace in milliseconds');
			}

			// JSON has no undefined: a client that left out the grace sends null, and means the default.
			return graceMs === null || graceMs === undefined ? [ids] : [ids, graceMs];
		}

		case 'retryJobs': {
			if (!isIdList(params[0])) refuse('a list of job ids');
			break;
		}

		case 'clean': {
			// Its fields are the engine's to check (checkCleanRequest), with the same words for every door.
			if (!isObject(params[0])) refuse('{olderThanMs?, keep?, outcomes?}');
			break;
		}

		case 'setPaused': {
			if (typeof params[0] !== 'boolean') refuse('true or false');
			break;
		}

		case 'loadStatus': {
			if (typeof params[1] !== 'string') refuse('a status and the directory its relative scripts are in');
			break;
		}

		default: {
			break;
		}
	}

	return params;
}

function positiveInteger(text: string | undefined): number | undefined {
	return text !== undefined && /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
}

function subscribeInBatches(scheduler: Scheduler, deliver: (events: SchedulerEvent[]) => void, options?: SubscribeOptions): {flush(): void; unsubscribe(): void} {
	let pending: SchedulerEvent[] = [];
	let timer: NodeJS.Timeout | undefined;
	let lastSentAt = 0;
	const flush = (): void => {
		clearTimeout(timer);
		timer = undefined;
		if (pending.length === 0) return;
		const batch = pending;
		pending = [];
		lastSentAt = performance.now();
		deliver(batch);
	};

	const unsubscribe = scheduler.subscribe(events => {
		for (const event of events) pending.push(event);
		// After a quiet spell the first change goes out at once; under load, one batch per eventBatchMs.
		timer ??= setTimeout(flush, Math.max(0, lastSentAt + eventBatchMs - performance.now()));
	}, options);
	return {
		flush,
		unsubscribe() {
			clearTimeout(timer);
			unsubscribe();
		},
	};
}
