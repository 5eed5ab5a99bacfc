import type {FinishedRun, JobRun, QueuedJob, Worker, WorkerState} from '../../core/model.js';
import type {QueueRows} from './queue-rows.js';
import {workerState} from '../../core/model.js';
import {formatArguments} from '../../core/arguments.js';
import type {SchedulerModel} from './scheduler-model.js';
import type {ListPaneId, OutputTarget, PaneId} from './ui-state.js';

// What each list pane shows, in order and filtered: the model as rows. The
// queue's rows come from the scheduler, filtered there (use-queue-page).

export type WorkerRow = {readonly worker: Worker; readonly state: WorkerState; readonly runs: readonly JobRun[]};

export type PaneItems = {
	readonly workers: readonly WorkerRow[];
	readonly queue: QueueRows;
	readonly running: readonly JobRun[];
	/** Newest first. */
	readonly history: readonly FinishedRun[];
};

/** Every worker with its state and current runs, unfiltered. */
export function workerRows(model: SchedulerModel): WorkerRow[] {
	const runsByWorker = new Map<string, JobRun[]>();
	for (const run of model.running.values()) {
		const runs = runsByWorker.get(run.worker);
		if (runs) runs.push(run);
		else runsByWorker.set(run.worker, [run]);
	}

	return [...model.workers.values()].map(worker => {
		const runs = runsByWorker.get(worker.name) ?? [];
		return {worker, state: workerState(worker, runs.length), runs};
	});
}

export function countWorkerStates(rows: readonly WorkerRow[]): Record<WorkerState, number> {
	const counts = {idle: 0, busy: 0, draining: 0, offline: 0};
	for (const row of rows) counts[row.state]++;
	return counts;
}

export function paneItems(model: SchedulerModel, workers: readonly WorkerRow[], queue: QueueRows, filters: Readonly<Record<PaneId, string>>): PaneItems {
	const running = [...model.running.values()].sort((left, right) => left.startedAt - right.startedAt || left.runId - right.runId);
	return {
		workers: filterBy(workers, filters.workers, row => `${row.worker.name} ${row.state} ${row.worker.tags?.join(' ') ?? ''} ${row.runs.map(run => `#${run.id}`).join(' ')}`),
		queue,
		running: filterBy(running, filters.running, run => `#${run.id} ${run.worker} ${run.script} ${formatArguments(run.args)}`),
		history: filterBy(model.finished.toReversed(), filters.history, run => `#${run.id} ${run.worker} ${run.outcome} ${run.script} ${formatArguments(run.args)}`),
	};
}

/** Case-insensitive substring match on a row's text; the list itself when there is no filter. */
function filterBy<Item>(items: readonly Item[], filter: string, textOf: (item: Item) => string): readonly Item[] {
	const needle = filter.trim().toLowerCase();
	if (!needle) return items;
	return items.filter(item => textOf(item).toLowerCase().includes(needle));
}

export function keyOfItem(pane: ListPaneId, item: unknown): string | number {
	switch (pane) {
		case 'workers': {
			return (item as WorkerRow).worker.name;
		}

		case 'queue': {
			return (item as QueuedJob).id;
		}

		case 'running':
		case 'history': {
			return (item as JobRun).runId;
		}
	}
}

/** The run whose output belongs to a row: the run itself, or for a worker its oldest current job. */
export function outputTargetOf(pane: ListPaneId, item: unknown): OutputTarget | undefined {
	if (item === undefined || pane === 'queue') return undefined;
	const run = pane === 'workers' ? (item as WorkerRow).runs[0] : (item as JobRun);
	return run && {runId: run.runId, jobId: run.id, worker: run.worker, logFile: run.logFile};
}
