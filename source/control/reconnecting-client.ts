import type {Scheduler, SchedulerEvent, SchedulerEventListener, SubscribeOptions} from '../core/scheduler.js';
import {UserError} from '../core/user-error.js';
import {connectToScheduler, type SchedulerClient} from './control-client.js';

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
			emit({type: 'connection-lost', message: error?.message ?? `no scheduler answers on ${dataDir}`, at: Date.now()});
			retry();
		});
	};

	const retry = (): void => {
		if (closed) return;
		retryTimer = setTimeout(() => {
			connectToScheduler(dataDir).then(
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

	return {
		snapshot: async options => current().snapshot(options),
		subscribe(listener, options) {
			listeners.add(listener);
			if (!subscription) {
				subscription = {options};
				client?.subscribe(forward, options);
			}

			return () => listeners.delete(listener);
		},
		queuePage: async request => current().queuePage(request),
		addWorkers: async request => current().addWorkers(request),
		removeWorkers: async (names, mode) => current().removeWorkers(names, mode),
		setWorkersDrained: async (names, drained) => current().setWorkersDrained(names, drained),
		tagWorkers: async (names, add, remove) => current().tagWorkers(names, add, remove),
		addJobs: async jobs => current().addJobs(jobs),
		removeJobs: async selector => current().removeJobs(selector),
		cancelJobs: async (ids, graceMs) => current().cancelJobs(ids, graceMs),
		retryJobs: async ids => current().retryJobs(ids),
		clean: async request => current().clean(request),
		setJobPriority: async (ids, priority) => current().setJobPriority(ids, priority),
		setPaused: async paused => current().setPaused(paused),
		loadStatus: async (status, cwd) => current().loadStatus(status, cwd),
		stop: async () => current().stop(),
		close() {
			closed = true;
			clearTimeout(retryTimer);
			client?.close();
			client = undefined;
		},
	};
}
