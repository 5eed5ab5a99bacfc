import {present} from '../core/present.js';
import {chmod, unlink} from 'node:fs/promises';
import {createServer, type Server, type Socket} from 'node:net';
import type {Scheduler, SchedulerEvent, SubscribeOptions} from '../core/scheduler.js';
import {lineReader} from '../core/line-reader.js';
import {releasedMemory} from './memory-release.js';
import {UserError} from '../core/user-error.js';
import {controlSocketPath, maxRequestBytes, protocolVersion, type Request, type Response} from './protocol.js';
import {lateBy} from './deadline.js';
import {checkParams, checkSubscribeOptions, isSchedulerMethod} from './scheduler-api.js';

// Serves a scheduler on the control socket of its data dir, so that commands
// from other shells and UIs attached later drive the same scheduler.

/** Events to subscribers go out in batches, at most this often: at most 20 batches a second per subscriber. */
const eventBatchMs = 50;
/** A connection idle this long is closed (subscribers excepted); JOBDECK_CLIENT_IDLE_MS overrides it, for tests. */
const idleTimeoutMs = positiveInteger(process.env.JOBDECK_CLIENT_IDLE_MS) ?? 30_000;
/** The heartbeats a subscriber may ask for: no more often than 20 a second, at least one a minute. */
const minHeartbeatMs = 50;
const maxHeartbeatMs = 60_000;
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
	let subscription: {flush: () => void; unsubscribe: () => void} | undefined;
	socket.setTimeout(idleTimeoutMs, () => {
		if (!subscription) socket.destroy();
	});
	socket.on('close', () => {
		if (subscription) {
			flushes.delete(subscription.flush);
			subscription.unsubscribe();
		}

		waiting.length = 0;
		releasedMemory(readRequests.release());
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
			const handled = handleLine(present(waiting.shift(), 'a waiting request line'));
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
			releasedMemory(maxRequestBytes);
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
			// Anybody's JSON: checked before it is taken for a request.
			const parsed = JSON.parse(line) as Partial<Request> | null;
			if (typeof parsed !== 'object' || parsed === null || typeof parsed.id !== 'number') throw new Error('not a request');
			request = parsed as Request;
		} catch {
			send({id: null, error: {message: 'malformed request: not a JSON request line', user: true}});
			return;
		}

		if (request.v !== protocolVersion) {
			send({id: request.id, error: {message: `this scheduler speaks control protocol ${protocolVersion}, the client ${String(request.v)}: use the same jobdeck version for both`, user: true}});
			return;
		}

		try {
			// Checked as the request starts, after any wait behind others: its client may have given up meanwhile.
			const late = lateBy(request);
			if (late !== undefined && late > 0) throw new UserError(`the request reached the scheduler ${Math.round(late)} ms after its deadline: not carried out`);
			send({id: request.id, result: await dispatch(request)});
		} catch (error) {
			send({id: request.id, error: {message: (error as Error).message, user: error instanceof UserError}});
		}
	}

	async function dispatch(request: Request): Promise<unknown> {
		if (request.method === 'subscribe') {
			const options = checkSubscribeOptions(request.params);
			const {heartbeatMs} = request;
			if (!(heartbeatMs === undefined || (Number.isSafeInteger(heartbeatMs) && heartbeatMs >= 1))) throw new UserError('malformed request: heartbeatMs is a whole number of milliseconds');
			if (!subscription) {
				subscription = subscribeInBatches(scheduler, events => send({events}), options);
				flushes.add(subscription.flush);
				if (heartbeatMs !== undefined) {
					const heartbeat = setInterval(() => {
						send({heartbeat: Date.now()});
					}, Math.min(Math.max(heartbeatMs, minHeartbeatMs), maxHeartbeatMs));
					const {unsubscribe} = subscription;
					subscription.unsubscribe = () => {
						clearInterval(heartbeat);
						unsubscribe();
					};
				}
			}

			return true;
		}

		if (!isSchedulerMethod(request.method)) throw new UserError(`unknown method ${JSON.stringify(request.method)}`);
		const method = (scheduler[request.method] as (...args: unknown[]) => Promise<unknown>).bind(scheduler);
		return method(...checkParams(request.method, request.params));
	}
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
