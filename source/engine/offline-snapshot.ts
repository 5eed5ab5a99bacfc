import {resolve} from 'node:path';
import type {SchedulerSnapshot} from '../core/scheduler.js';
import {totalsOf} from '../core/run-totals.js';
import {readHistoryTail} from './state/history-file.js';
import {loadState, stateFiles} from './state/state-store.js';

/** The state as saved in a data dir, for `status` and `logs` while no scheduler runs. Changes nothing. */
export async function readOfflineSnapshot(dataDir: string, finishedCount: number): Promise<SchedulerSnapshot> {
	const files = stateFiles(resolve(dataDir));
	const {state} = await loadState(files);
	const finished = await readHistoryTail(files.history, finishedCount);
	return {
		dataDir: resolve(dataDir),
		logDir: '',
		running: false,
		paused: state.paused,
		workers: [...state.workers.values()],
		queue: [...state.queue.values()],
		queueLength: state.queue.size,
		runningJobs: [...state.running.values()],
		finished,
		retention: {keepFinished: state.retention.keepFinished ?? null, keepForMs: state.retention.keepForMs ?? null, finishedRuns: null, lastClean: null},
		// Of the last runs only: the history's head is not read.
		totals: totalsOf(finished),
	};
}
