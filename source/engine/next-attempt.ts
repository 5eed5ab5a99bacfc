import {queuedJobOf, type QueuedJob, type RequeueReason, type RunOutcome} from '../core/model.js';
import type {HealthPolicy} from './worker-health.js';

// What happens to a job after a run that did not succeed: it goes back to the
// queue when its worker could not be reached (that failure is the worker's,
// so it costs no retry), or when it has retries left; otherwise that run was
// its last.

export type NextAttempt = {job: QueuedJob; reason: RequeueReason};

export function nextAttempt(run: QueuedJob, outcome: RunOutcome, unreachable: boolean, policy: HealthPolicy, now: number): NextAttempt | undefined {
	// A user's cancel is final; a timeout is a failure like any other.
	if (outcome === 'succeeded' || outcome === 'cancelled') return undefined;
	const job = {...queuedJobOf(run), queuedAt: now};
	const requeues = run.unreachableRequeues ?? 0;
	if (unreachable && requeues < policy.maxUnreachableRequeues) {
		return {reason: 'worker-unreachable', job: {...job, unreachableRequeues: requeues + 1}};
	}

	const attempt = run.attempt ?? 1;
	if (attempt > (run.retries ?? 0)) return undefined;
	const delay = run.retryDelayMs ?? 0;
	return {reason: 'retry', job: {...job, attempt: attempt + 1, ...(delay > 0 && {notBefore: now + delay})}};
}
