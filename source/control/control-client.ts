import {createConnection, type Socket} from 'node:net';
import type {Scheduler, SchedulerEvent, SchedulerEventListener} from '../core/scheduler.js';
import {lineReader} from '../core/line-reader.js';
import {UserError} from '../core/user-error.js';
import {controlSocketPath, protocolVersion, type Response} from './protocol.js';
import {deadlineIn, describeTimeout, requestTimeoutMs} from './deadline.js';
import {schedulerMethods, type SchedulerMethod} from './scheduler-api.js';

// A Scheduler that lives in another process: every operation is a request on
// the control socket of its data dir. It is kept small, because every client
// command loads it.

export class SchedulerNotRunningError extends UserError {
	override name = 'SchedulerNotRunningError';
}

/** A scheduler that is there (its socket takes connections) but answers nothing in time. */
export class SchedulerUnresponsiveError extends UserError {
	override name = 'SchedulerUnresponsiveError';
}

type PendingRequest = {resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout};

export type SchedulerClient = Scheduler & {
	/** Closes the connection; an unanswered request fails. */
	close(): void;
	/**
	 * Called once if the connection ends without `close()`: the scheduler stopped
	 * or died (no error), refused the subscription (a scheduler of another version),
	 * or a subscribed connection heard nothing from it, not even its heartbeat, for a
	 * whole request timeout (a scheduler frozen, or stuck).
	 */
	onDisconnect(listener: (error?: Error) => void): void;
};

export async function connectToScheduler(dataDir: string): Promise<SchedulerClient> {
	const path = controlSocketPath(dataDir);
	const timeoutMs = requestTimeoutMs();
	const socket = await new Promise<Socket>((resolve, reject) => {
		const connection = createConnection(path);
		const timer = setTimeout(() => {
			connection.destroy();
			reject(new SchedulerUnresponsiveError(`the scheduler at ${dataDir} did not take the connection in ${describeTimeout(timeoutMs)}`));
		}, timeoutMs);
		connection.once('connect', () => {
			clearTimeout(timer);
			connection.off('error', reject);
			resolve(connection);
		});
		connection.once('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			if (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(error.code ?? '')) {
				reject(new SchedulerNotRunningError(`no scheduler is running on ${dataDir}: start one with \`jobdeck start --data-dir ${dataDir}\``));
			} else {
				reject(error);
			}
		});
	});
	return createClient(socket, dataDir, timeoutMs);
}

function createClient(socket: Socket, dataDir: string, timeoutMs: number): SchedulerClient {
	const pending = new Map<number, PendingRequest>();
	const listeners = new Set<SchedulerEventListener>();
	const disconnectListeners: Array<(error?: Error) => void> = [];
	let refusal: Error | undefined;
	let nextId = 1;
	let closedByUs = false;
	let subscribed = false;
	/** While subscribed: fires when the scheduler has said nothing, not even a heartbeat, for a whole timeout. */
	let silence: NodeJS.Timeout | undefined;
	const settle = (id: number): PendingRequest | undefined => {
		const request = pending.get(id);
		if (request) {
			clearTimeout(request.timer);
			pending.delete(id);
		}

		return request;
	};

	const failAll = (error: Error): void => {
		for (const id of [...pending.keys()]) settle(id)?.reject(error);
	};

	socket.on('data', () => silence?.refresh());
	socket.on('data', lineReader(line => {
		const response = parseResponse(line);
		if (response) {
			receive(response);
			return;
		}

		// Not our scheduler's words (another program on the socket, or a broken one): nothing more it says can be trusted.
		refusal ??= new UserError(`the scheduler at ${dataDir} sent a line that is not a control-protocol reply: ${JSON.stringify(line.slice(0, 60))}`);
		failAll(refusal);
		socket.destroy();
	}));
	socket.on('error', () => undefined);
	socket.on('close', () => {
		clearTimeout(silence);
		failAll(refusal ?? new Error('the scheduler closed the connection'));
		if (!closedByUs) for (const listener of disconnectListeners) listener(refusal);
	});

	function receive(response: Response): void {
		if ('heartbeat' in response) return;
		if ('events' in response) {
			for (const listener of listeners) listener(response.events as SchedulerEvent[]);
			return;
		}

		const request = response.id === null ? undefined : settle(response.id);
		if ('error' in response) {
			const error = response.error.user ? new UserError(response.error.message) : new Error(response.error.message);
			if (request) request.reject(error);
			// An error about no request in particular (a request line too large): fail them all.
			else if (response.id === null) failAll(error);
			return;
		}

		request?.resolve(response.result);
	}

	async function call<T>(method: SchedulerMethod | 'subscribe', params: unknown[], envelope: Record<string, unknown> = {}): Promise<T> {
		const id = nextId++;
		const reply = new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => {
				// The scheduler starts no request after its deadline, so one not answered by then was not carried out.
				settle(id)?.reject(new SchedulerUnresponsiveError(`the scheduler at ${dataDir} did not answer in ${describeTimeout(timeoutMs)}; the request was not carried out`));
			}, timeoutMs);
			pending.set(id, {resolve: resolve as (value: unknown) => void, reject, timer});
		});
		socket.write(JSON.stringify({v: protocolVersion, id, method, params, ...envelope, ...deadlineIn(timeoutMs)}) + '\n');
		return reply;
	}

	const methods = Object.fromEntries(schedulerMethods.map(method => [method, async (...params: unknown[]) => call(method, params)])) as Pick<Scheduler, SchedulerMethod>;
	return {
		...methods,
		/** One subscription per connection: the first subscriber's options are the connection's. */
		subscribe(listener, options) {
			listeners.add(listener);
			if (!subscribed) {
				subscribed = true;
				// A scheduler that stops answering must not leave a subscriber waiting in silence for ever:
				// it sends a heartbeat three times a timeout, and a timeout with nothing at all ends the connection.
				silence = setTimeout(() => {
					refusal ??= new SchedulerUnresponsiveError(`the scheduler at ${dataDir} stopped answering: nothing from it in ${describeTimeout(timeoutMs)}`);
					socket.destroy();
				}, timeoutMs);
				call('subscribe', [options ?? {}], {heartbeatMs: Math.max(1, Math.floor(timeoutMs / 3))}).catch((error: unknown) => {
					// Without its events a subscriber would wait for nothing: end the connection, with the reason.
					refusal ??= error instanceof Error ? error : new Error(String(error));
					socket.destroy();
				});
			}

			return () => listeners.delete(listener);
		},
		close() {
			closedByUs = true;
			clearTimeout(silence);
			socket.end();
			// A frozen scheduler never answers the end of the connection: it must not keep this process alive.
			socket.unref();
		},
		onDisconnect(listener) {
			disconnectListeners.push(listener);
		},
	};
}

function parseResponse(line: string): Response | undefined {
	let response: unknown;
	try {
		response = JSON.parse(line);
	} catch {
		return undefined;
	}

	if (typeof response !== 'object' || response === null) return undefined;
	if ('heartbeat' in response) return response as Response;
	if ('events' in response) return Array.isArray(response.events) ? response as Response : undefined;
	if (!('id' in response) || !(typeof response.id === 'number' || response.id === null)) return undefined;
	if (!('error' in response)) {
		// A method that returns nothing answers `{id}`: JSON leaves an undefined result out.
		return typeof response.id === 'number' ? {id: response.id, result: 'result' in response ? response.result : undefined} : undefined;
	}

	const {error} = response;
	return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? response as Response : undefined;
}
