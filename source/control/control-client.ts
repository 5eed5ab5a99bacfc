import {createConnection, type Socket} from 'node:net';
import type {Scheduler, SchedulerEvent, SchedulerEventListener} from '../core/scheduler.js';
import {lineReader} from '../core/line-reader.js';
import {UserError} from '../core/user-error.js';
import {controlSocketPath, protocolVersion, type Response, type SchedulerMethod} from './protocol.js';

// A Scheduler that lives in another process: every operation is a request on
// the control socket of its data dir. It is kept small, because every client
// command loads it.

export class SchedulerNotRunningError extends UserError {
	override name = 'SchedulerNotRunningError';
}

type PendingRequest = {resolve: (value: unknown) => void; reject: (error: Error) => void};

export type SchedulerClient = Scheduler & {
	/** Closes the connection; an unanswered request fails. */
	close(): void;
	/**
	 * Called once if the connection ends without `close()`: the scheduler stopped
	 * or died (no error), or refused the subscription (a scheduler of another version).
	 */
	onDisconnect(listener: (error?: Error) => void): void;
};

export async function connectToScheduler(dataDir: string): Promise<SchedulerClient> {
	const path = controlSocketPath(dataDir);
	const socket = await new Promise<Socket>((resolve, reject) => {
		const connection = createConnection(path);
		connection.once('connect', () => {
			connection.off('error', reject);
			resolve(connection);
		});
		connection.once('error', (error: NodeJS.ErrnoException) => {
			if (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(error.code ?? '')) {
				reject(new SchedulerNotRunningError(`no scheduler is running on ${dataDir}: start one with \`jobdeck start --data-dir ${dataDir}\``));
			} else {
				reject(error);
			}
		});
	});
	return createClient(socket);
}

function createClient(socket: Socket): SchedulerClient {
	const pending = new Map<number, PendingRequest>();
	const listeners = new Set<SchedulerEventListener>();
	const disconnectListeners: Array<(error?: Error) => void> = [];
	let refusal: Error | undefined;
	let nextId = 1;
	let closedByUs = false;
	let subscribed = false;
	socket.on('data', lineReader(line => {
		receive(JSON.parse(line) as Response);
	}));
	socket.on('error', () => undefined);
	socket.on('close', () => {
		const error = new Error('the scheduler closed the connection');
		for (const request of pending.values()) request.reject(error);
		pending.clear();
		if (!closedByUs) for (const listener of disconnectListeners) listener(refusal);
	});

	function receive(response: Response): void {
		if ('events' in response) {
			for (const listener of listeners) listener(response.events as SchedulerEvent[]);
			return;
		}

		const request = response.id === null ? undefined : pending.get(response.id);
		if ('error' in response) {
			const error = response.error.user ? new UserError(response.error.message) : new Error(response.error.message);
			if (request) {
				pending.delete(response.id!);
				request.reject(error);
			} else {
				// An error about no request in particular (a request line too large): fail them all.
				for (const other of pending.values()) other.reject(error);
				pending.clear();
			}

			return;
		}

		if (request) {
			pending.delete(response.id);
			request.resolve(response.result);
		}
	}

	async function call<T>(method: SchedulerMethod | 'subscribe', ...params: unknown[]): Promise<T> {
		const id = nextId++;
		const reply = new Promise<T>((resolve, reject) => {
			pending.set(id, {resolve: resolve as (value: unknown) => void, reject});
		});
		socket.write(JSON.stringify({v: protocolVersion, id, method, params}) + '\n');
		return reply;
	}

	return {
		snapshot: async options => call('snapshot', options ?? {}),
		/** One subscription per connection: the first subscriber's options are the connection's. */
		subscribe(listener, options) {
			listeners.add(listener);
			if (!subscribed) {
				subscribed = true;
				call('subscribe', options ?? {}).catch((error: Error) => {
					// Without its events a subscriber would wait for nothing: end the connection, with the reason.
					refusal = error;
					socket.destroy();
				});
			}

			return () => listeners.delete(listener);
		},
		queuePage: async request => call('queuePage', request),
		addWorkers: async request => call('addWorkers', request),
		removeWorkers: async (names, mode) => call('removeWorkers', names, mode),
		setWorkersDrained: async (names, drained) => call('setWorkersDrained', names, drained),
		tagWorkers: async (names, add, remove) => call('tagWorkers', names, add, remove),
		addJobs: async jobs => call('addJobs', jobs),
		removeJobs: async selector => call('removeJobs', selector),
		cancelJobs: async (ids, graceMs) => call('cancelJobs', ids, graceMs),
		retryJobs: async ids => call('retryJobs', ids),
		clean: async request => call('clean', request),
		setJobPriority: async (ids, priority) => call('setJobPriority', ids, priority),
		setPaused: async paused => call('setPaused', paused),
		loadStatus: async (status, cwd) => call('loadStatus', status, cwd),
		stop: async () => call('stop'),
		close() {
			closedByUs = true;
			socket.end();
		},
		onDisconnect(listener) {
			disconnectListeners.push(listener);
		},
	};
}
