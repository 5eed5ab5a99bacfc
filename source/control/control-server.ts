import {chmod, unlink} from 'node:fs/promises';
import {createServer, type Server, type Socket} from 'node:net';
import type {Scheduler, SchedulerEvent} from '../core/scheduler.js';
import {UserError} from '../core/user-error.js';
import {
	controlSocketPath,
	maxRequestBytes,
	protocolVersion,
	schedulerMethods,
	type Request,
	type Response,
} from './protocol.js';

// Serves a scheduler on the control socket of its data dir, so that commands
// from other shells and UIs attached later drive the same scheduler.

/** Events to subscribers go out in batches, at most this often. */
const eventBatchMs = 50;
/** A connection that has not finished a request by then is closed (subscribers excepted). */
const idleTimeoutMs = 30_000;

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
	const server = createServer(socket => {
		connections.add(socket);
		socket.on('close', () => connections.delete(socket));
		handleConnection(scheduler, socket, inFlight);
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

function handleConnection(scheduler: Scheduler, socket: Socket, inFlight: Set<Promise<void>>): void {
	let buffered: Buffer[] = [];
	let bufferedBytes = 0;
	let unsubscribe: (() => void) | undefined;
	socket.setTimeout(idleTimeoutMs, () => {
		if (!unsubscribe) socket.destroy();
	});
	socket.on('close', () => unsubscribe?.());
	socket.on('error', () => undefined);

	const send = (response: Response) => {
		if (!socket.destroyed) socket.write(JSON.stringify(response) + '\n');
	};

	socket.on('data', (chunk: Buffer) => {
		let start = 0;
		let newline = chunk.indexOf(10);
		while (newline !== -1) {
			buffered.push(chunk.subarray(start, newline));
			const line = Buffer.concat(buffered).toString('utf8');
			buffered = [];
			bufferedBytes = 0;
			const handled = handleLine(line);
			inFlight.add(handled);
			void handled.finally(() => inFlight.delete(handled));
			start = newline + 1;
			newline = chunk.indexOf(10, start);
		}

		if (start < chunk.length) {
			buffered.push(chunk.subarray(start));
			bufferedBytes += chunk.length - start;
			if (bufferedBytes > maxRequestBytes) {
				send({id: null, error: {message: `request larger than ${maxRequestBytes} bytes`, user: true}});
				socket.destroySoon();
				buffered = [];
				socket.pause();
			}
		}
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
			unsubscribe ??= subscribeInBatches(scheduler, events => send({events}));
			return true;
		}

		if (!schedulerMethods.includes(request.method)) throw new UserError(`unknown method ${JSON.stringify(request.method)}`);
		const params = Array.isArray(request.params) ? request.params : [];
		const method = scheduler[request.method] as (...args: unknown[]) => Promise<unknown>;
		return method.apply(scheduler, params);
	}
}

function subscribeInBatches(scheduler: Scheduler, deliver: (events: SchedulerEvent[]) => void): () => void {
	let pending: SchedulerEvent[] = [];
	let timer: NodeJS.Timeout | undefined;
	const unsubscribe = scheduler.subscribe(events => {
		pending.push(...events);
		timer ??= setTimeout(() => {
			timer = undefined;
			const batch = pending;
			pending = [];
			deliver(batch);
		}, eventBatchMs);
	});
	return () => {
		clearTimeout(timer);
		unsubscribe();
	};
}
