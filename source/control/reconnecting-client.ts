import type {Scheduler, SchedulerEvent, SchedulerEventListener, SubscribeOptions} from '../core/scheduler.js';
import {UserError} from '../core/user-error.js';
import {connectToScheduler, SchedulerUnresponsiveError, type SchedulerClient} from './control-client.js';
import {schedulerMethods, type SchedulerMethod} from './scheduler-api.js';

// A Scheduler on a data dir rather than on one connection: for a UI that
// stays open for days while the scheduler behind it is stopped, killed or
// restarted. When the connection ends it says so in the event stream
// (`connection-lost`), refuses operations with a plain message, and keeps
// trying the socket; once a scheduler answers again it says that too
// (`connection-restored`), and whoever listens takes a fresh snapshot.

/** How often a lost scheduler is looked for; JOBDECK_RECONNECT_MS overrides it, for tests. */
const reconnectMs = Number(process.env.JOBDECK_RECONNECT_MS) > 0 ? Number(process.env.JOBDECK_RECONNECT_MS) : 500;

export type ReconnectingScheduler = Scheduler & {
	/** Closes the connection and stops looking for the scheduler. */
	close(): void;
};

/** Connects to the scheduler on `dataDir`; fails (as `connectToScheduler` does) if none runs there now. */
export async function attachToScheduler(dataDir: string): Promise<ReconnectingScheduler> {
	const listeners = new Set<SchedulerEventListener>();
	let client: SchedulerClient | undefined;
	let retryTimer: NodeJS.Timeout | undefined;
	let closed = false;
	/** Set by the first subscriber: every connection, the first and each one after a loss, subscribes so. */
	let subscription: {options?: SubscribeOptions} | undefined;
	const forward: SchedulerEventListener = events => {
		for (const listener of listeners) listener(events);
	};

	const emit = (event: SchedulerEvent): void => {
		for (const listener of listeners) listener([event]);
	};

	const use = (connected: SchedulerClient): void => {
		client = connected;
		if (subscription) connected.subscribe(forward, subscription.options);
		connected.onDisconnect(error => {
			client = undefined;
			emit({type: 'connection-lost', message: error?.message ?? `no scheduler answers on ${dataDir}`, unresponsive: error instanceof SchedulerUnresponsiveError, at: Date.now()});
			retry();
		});
	};

	const retry = (): void => {
		if (closed) return;
		retryTimer = setTimeout(() => {
			// A socket takes connections even while its scheduler is frozen: it is back only once it answers.
			const answering = async (): Promise<SchedulerClient> => {
				const connected = await connectToScheduler(dataDir);
				try {
					await connected.snapshot({queue: false});
				} catch (error) {
					connected.close();
					throw error;
				}

				return connected;
			};

			answering().then(
				connected => {
					if (closed) {
						connected.close();
						return;
					}

					use(connected);
					emit({type: 'connection-restored', at: Date.now()});
				},
				retry,
			);
		}, reconnectMs);
	};

	use(await connectToScheduler(dataDir));

	const current = (): SchedulerClient => {
		if (!client) throw new UserError(`the scheduler on ${dataDir} is gone: waiting for it to come back`);
		return client;
	};

	const methods = Object.fromEntries(schedulerMethods.map(method => [
		method,
		async (...params: unknown[]) => (current()[method] as (...args: unknown[]) => Promise<unknown>)(...params),
	])) as Pick<Scheduler, SchedulerMethod>;
	return {
		...methods,
		subscribe(listener, options) {
			listeners.add(listener);
			if (!subscription) {
				subscription = {options};
				client?.subscribe(forward, options);
			}

			return () => listeners.delete(listener);
		},
		close() {
			closed = true;
			clearTimeout(retryTimer);
			client?.close();
			client = undefined;
		},
	};
}
