import type {FinishedRun, JobRun} from '../core/model.js';
import {runOutcome} from '../core/model.js';
import {totalsOf, type RunTotals} from '../core/run-totals.js';
import type {SchedulerEvent} from '../core/scheduler.js';
import {dependencyFailures} from './dependency-walk.js';
import type {ExitStatus} from './job-process.js';
import {nextAttempt} from './next-attempt.js';
import type {SchedulerState, StateChange} from './state/scheduler-state.js';
import {healthAfterRun, isUnreachableExit, type HealthPolicy} from './worker-health.js';
import {present} from '../core/present.js';

// Finishing a run, planned: what the state, the history, the totals and the
// listeners are to learn of it. Reads the state, changes nothing.

export type FinishPlan = {
	finished: FinishedRun;
	/** One step on disk: the run's end, its job queued again or the jobs waiting for it failed, and its worker's health. */
	changes: StateChange[];
	/** The runs to add to the history, in order: this one, then the dependency-failed ones. */
	recorded: FinishedRun[];
	/** What the totals gain (see core/run-totals.ts). */
	totals: RunTotals;
	/** Events before the worker's own (which says how the change left it), and after it. */
	events: SchedulerEvent[];
	eventsAfterWorker: SchedulerEvent[];
};

export function planFinish(state: SchedulerState, health: HealthPolicy, run: JobRun, exit: ExitStatus, endedAt: number): FinishPlan {
	const {pidStartTime, cancelRequestedAt, cancelKillAt, timedOut, notBefore, ...fields} = run;
	const outcome = runOutcome(exit.exitCode, exit.signal, {requested: cancelRequestedAt !== undefined, timedOut: timedOut === true});
	const unreachable = outcome === 'failed' && isUnreachableExit(exit.exitCode, health);
	const next = nextAttempt(run, outcome, unreachable, health, endedAt);
	const finished: FinishedRun = {
		...fields,
		endedAt,
		exitCode: exit.exitCode,
		signal: exit.signal,
		outcome,
		...(next && {requeued: next.reason}),
	};
	// A job that failed for good takes down every job waiting for it, in the same change.
	const dependencyFailed = !next && outcome !== 'succeeded' ? dependencyFailures(state, [run.id], endedAt) : [];
	const changes: StateChange[] = [{
		type: 'run-finished',
		run: finished,
		...(next && {requeue: next.job}),
		...(dependencyFailed.length > 0 && {dependencyFailed}),
	}];
	const workerBefore = state.workers.get(run.worker);
	const workerHealth = workerBefore && healthAfterRun(workerBefore, unreachable, health, endedAt);
	if (workerHealth) changes.push({type: 'worker-health', name: run.worker, ...workerHealth});
	const events: SchedulerEvent[] = [{type: 'job-finished', run: finished, at: endedAt}];
	if (dependencyFailed.length > 0) {
		events.push({type: 'jobs-removed', ids: dependencyFailed.map(failed => failed.id), at: endedAt});
		for (const failed of dependencyFailed) events.push({type: 'job-finished', run: failed, at: endedAt});
	}

	if (next) events.push({type: 'jobs-queued', jobs: [next.job], front: true, at: endedAt});
	const eventsAfterWorker: SchedulerEvent[] = [];
	if (workerHealth?.offline && !workerBefore?.offline) {
		eventsAfterWorker.push({type: 'worker-offline', name: run.worker, exitCode: present(exit.exitCode, `the exit code of run ${run.runId}`), runs: workerHealth.unreachableStreak, nextCheckAt: workerHealth.offline.nextCheckAt, at: endedAt});
	}

	return {
		finished,
		changes,
		recorded: [finished, ...dependencyFailed],
		totals: totalsOf([finished, ...dependencyFailed]),
		events,
		eventsAfterWorker,
	};
}
