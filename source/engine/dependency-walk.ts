import type {FinishedRun, QueuedJob} from '../core/model.js';
import type {SchedulerState} from './state/scheduler-state.js';
import {present} from '../core/present.js';

// How the jobs a job runs after stand, and which queued jobs can never run
// once a job they wait for failed for good.

export function isQueuedOrRunning(state: SchedulerState, id: number): boolean {
	return state.queue.has(id) || state.runningJobIds.has(id);
}

/**
 * How a job this one waits for stands, read after the last await: undefined when unknown, `pending`
 * while it is queued or running, `succeeded`, or the id of the failed job to name (a job that never
 * ran as its own dependency failed names that one).
 */
export function dependencyEnd(state: SchedulerState, recent: readonly FinishedRun[], id: number, olderRuns: Map<number, FinishedRun>): 'pending' | 'succeeded' | number | undefined {
	if (isQueuedOrRunning(state, id)) return 'pending';
	// It may have ended during the await: its run is in memory then.
	const run = recent.findLast(candidate => candidate.id === id) ?? olderRuns.get(id);
	if (!run) return undefined;
	if (run.outcome === 'succeeded') return 'succeeded';
	return run.outcome === 'dependency-failed' ? present(run.dependencyFailed, `the failed dependency of job ${id}`) : id;
}

/** Every queued job downstream of these jobs (which fail for good or leave the queue), as `dependency-failed` runs. */
export function dependencyFailures(state: SchedulerState, ids: readonly number[], at: number): FinishedRun[] {
	const runs: FinishedRun[] = [];
	const seen = new Set(ids);
	let runId = state.nextRunId;
	const stack = ids.map(id => ({id, root: id}));
	for (let item = stack.pop(); item; item = stack.pop()) {
		for (const dependent of state.dependencies.dependentsOf(item.id)) {
			const job = state.queue.get(dependent);
			if (seen.has(dependent) || !job) continue;
			seen.add(dependent);
			runs.push(dependencyFailedRun(job, runId++, item.root, at));
			stack.push({id: dependent, root: item.root});
		}
	}

	return runs.sort((left, right) => left.runId - right.runId);
}

/** The record of a job that will never run, as `failed` (a job it waited for, maybe further up) failed for good. */
export function dependencyFailedRun(job: QueuedJob, runId: number, failed: number, at: number): FinishedRun {
	const {notBefore, ...fields} = job;
	return {
		...fields,
		runId,
		worker: '',
		startedAt: at,
		logFile: '',
		endedAt: at,
		exitCode: null,
		signal: null,
		outcome: 'dependency-failed',
		dependencyFailed: failed,
	};
}
