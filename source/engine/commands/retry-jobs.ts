import type {FinishedRun, QueuedJob} from '../../core/model.js';
import {queuedJobOf} from '../../core/model.js';
import {UserError} from '../../core/user-error.js';
import {isQueuedOrRunning} from '../dependency-walk.js';
import {change, refuseWhenStopping, type EngineContext} from '../engine-context.js';

// `retry`: jobs that ended go back to the queue, with those that could not
// run because of them.

export async function retryJobs(context: EngineContext, ids: number[]): Promise<QueuedJob[]> {
	refuseWhenStopping(context);
	const retried = new Set(ids);
	for (const id of retried) {
		if (context.state.queue.has(id)) throw new UserError(`job ${id} is already queued`);
		if (context.state.runningJobIds.has(id)) throw new UserError(`job ${id} is running`);
	}

	// The runs kept in memory answer most retries: whatever was recorded after a job's last run is among them too.
	const recent = new Map(context.history.recent.map(run => [run.id, run]));
	const jobs = planRetry(context, retried, recent, false) ?? planRetry(context, retried, await context.history.allLastRuns(), true)!;
	const now = Date.now();
	for (const job of jobs) job.queuedAt = now;
	const saved = change(context, [{type: 'jobs-queued', jobs}], [{type: 'jobs-queued', jobs, at: now}]);
	context.scheduleDispatch();
	await saved;
	return jobs;
}

/**
 * The jobs a retry queues again: the retried ones, then those recorded `dependency-failed` because of them.
 * With `complete` false, `lastRuns` holds only the newest runs: undefined when they do not tell enough.
 */
function planRetry(context: EngineContext, retried: ReadonlySet<number>, lastRuns: ReadonlyMap<number, FinishedRun>, complete: boolean): QueuedJob[] | undefined {
	const jobs: QueuedJob[] = [];
	const requeued = new Set<number>();
	let incomplete = false;
	// Fresh starts: the jobs' settings stay, their counts of attempts do not.
	const requeue = (finished: FinishedRun) => {
		const {attempt, unreachableRequeues, ...job} = queuedJobOf(finished);
		jobs.push(job);
		requeued.add(job.id);
	};

	/** A job this one runs after that failed for good and is not queued again now. */
	const failedDependency = (finished: FinishedRun) => (finished.after ?? []).find(dependency => {
		if (requeued.has(dependency) || isQueuedOrRunning(context.state, dependency)) return false;
		const last = lastRuns.get(dependency);
		if (!last && !complete) incomplete = true;
		return last?.outcome !== 'succeeded';
	});

	for (const id of [...retried].sort((left, right) => left - right)) {
		if (isQueuedOrRunning(context.state, id)) throw new UserError(`job ${id} is already queued or running`);
		const finished = lastRuns.get(id);
		if (!finished && !complete) return undefined;
		if (!finished) throw new UserError(`job ${id} has never run here (or its runs were removed by clean or the retention policy)`);
		const failed = failedDependency(finished);
		if (incomplete) return undefined;
		if (failed !== undefined) throw new UserError(`job ${id} runs after job ${failed}, which did not succeed: retry job ${failed} (that re-queues job ${id} too)`);
		requeue(finished);
	}

	// What was recorded `dependency-failed` because of a retried job waits for it again, in id order, so that
	// every job comes after those it waits for.
	const rearmed = [...lastRuns.values()]
		.filter(run => run.outcome === 'dependency-failed' && requeued.has(run.dependencyFailed!) && !retried.has(run.id) && !isQueuedOrRunning(context.state, run.id))
		.sort((left, right) => left.id - right.id);
	for (const finished of rearmed) {
		if (failedDependency(finished) === undefined) requeue(finished);
	}

	return incomplete ? undefined : jobs;
}
