import {resolve} from 'node:path';
import type {FinishedRun} from '../core/model.js';
import type {Scheduler} from '../core/scheduler.js';
import {withRecentRuns} from '../core/recent-runs.js';

// What a command that only looks (`status`, `logs`) asks of a scheduler,
// answered from the data dir's files while no scheduler runs. This is the one
// place where the command line reads the scheduler's files itself.

export type SchedulerQueries = Pick<Scheduler, 'snapshot' | 'finishedRuns'>;

/** The newest runs a snapshot of the saved state carries; more are asked for with `finishedRuns`. */
const finishedInSnapshot = 20;

export async function savedState(dataDir: string): Promise<SchedulerQueries> {
	const [{readOfflineSnapshot}, {readHistoryFrom, readHistoryTail}, {stateFiles}] = await Promise.all([
		import('../engine/offline-snapshot.js'),
		import('../engine/state/history-file.js'),
		import('../engine/state/state-store.js'),
	]);
	const {history} = stateFiles(resolve(dataDir));
	return {
		snapshot: async () => readOfflineSnapshot(dataDir, finishedInSnapshot),
		async finishedRuns(query) {
			if ('newest' in query) return withRecentRuns(query.newest === 'all' ? await readHistoryFrom(history, 0) : await readHistoryTail(history, query.newest), [], query.newest);
			const wanted = new Set(query.jobs);
			const last = new Map<number, FinishedRun>();
			for (const run of await readHistoryFrom(history, 0)) if (wanted.has(run.id)) last.set(run.id, run);
			return [...last.values()];
		},
	};
}
