import {resolve} from 'node:path';
import {connectToScheduler, SchedulerNotRunningError, type SchedulerClient} from '../control/control-client.js';
import {savedState, type SchedulerQueries} from './saved-state.js';

/** Runs `action` against the scheduler of a data dir, over its control socket. */
export async function withScheduler<T>(dataDir: string, action: (scheduler: SchedulerClient) => Promise<T>): Promise<T> {
	const scheduler = await connectToScheduler(resolve(dataDir));
	try {
		return await action(scheduler);
	} finally {
		scheduler.close();
	}
}

/**
 * For commands that only look: runs `action` against the running scheduler
 * (also given as `live`), or against the saved state when none runs.
 */
export async function withSchedulerOrSavedState<T>(dataDir: string, action: (scheduler: SchedulerQueries, live: SchedulerClient | undefined) => Promise<T>): Promise<T> {
	let scheduler: SchedulerClient;
	try {
		scheduler = await connectToScheduler(resolve(dataDir));
	} catch (error) {
		if (!(error instanceof SchedulerNotRunningError)) throw error;
		return action(await savedState(dataDir), undefined);
	}

	try {
		return await action(scheduler, scheduler);
	} finally {
		scheduler.close();
	}
}
