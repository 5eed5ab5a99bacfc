import {resolve} from 'node:path';
import {connectToScheduler, type SchedulerClient} from '../control/control-client.js';

/** Runs `action` against the scheduler of a data dir, over its control socket. */
export async function withScheduler<T>(dataDir: string, action: (scheduler: SchedulerClient) => Promise<T>): Promise<T> {
	const scheduler = await connectToScheduler(resolve(dataDir));
	try {
		return await action(scheduler);
	} finally {
		scheduler.close();
	}
}
