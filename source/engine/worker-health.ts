import type {Worker, WorkerOffline} from '../core/model.js';

// When a worker stops answering, every job sent to it fails at once with
// ssh's connection error (exit 255) and a dead worker would eat the whole
// queue. So: that many such runs in a row take the worker offline; it gets
// no job until a re-check finds it answering again, with the wait between
// re-checks doubling up to a ceiling.

export type HealthPolicy = {
	/** The exit code that means "could not reach the worker"; null turns the rule off. */
	unreachableExitCode: number | null;
	/** Runs in a row with that code before the worker goes offline. */
	offlineAfter: number;
	/** The first re-check of an offline worker comes this long after it went offline. */
	recheckAfterMs: number;
	maxRecheckAfterMs: number;
	/** A job lost to unreachable workers is re-queued for free at most this many times; after that the failure is its own. */
	maxUnreachableRequeues: number;
};

export const defaultHealthPolicy: HealthPolicy = {
	unreachableExitCode: 255,
	offlineAfter: 3,
	recheckAfterMs: 30_000,
	maxRecheckAfterMs: 10 * 60_000,
	maxUnreachableRequeues: 3,
};

export type WorkerHealth = Required<Pick<Worker, 'unreachableStreak'>> & {offline: WorkerOffline | null; failedRechecks: number};

export function isUnreachableExit(exitCode: number | null, policy: HealthPolicy): boolean {
	return policy.unreachableExitCode !== null && policy.offlineAfter > 0 && exitCode === policy.unreachableExitCode;
}

/** The worker's health after one of its runs ended; undefined when nothing changes. */
export function healthAfterRun(worker: Worker, unreachable: boolean, policy: HealthPolicy, now: number): WorkerHealth | undefined {
	const streak = worker.unreachableStreak ?? 0;
	if (!unreachable) {
		if (streak === 0 && !worker.failedRechecks) return undefined;
		return {unreachableStreak: 0, offline: worker.offline ?? null, failedRechecks: 0};
	}

	const unreachableStreak = streak + 1;
	if (worker.offline || unreachableStreak < policy.offlineAfter) {
		return {unreachableStreak, offline: worker.offline ?? null, failedRechecks: worker.failedRechecks ?? 0};
	}

	const checks = worker.failedRechecks ?? 0;
	return {unreachableStreak, offline: {since: now, checks, nextCheckAt: now + recheckDelay(checks, policy)}, failedRechecks: checks};
}

/** After a re-check: back online, or offline with a longer wait. */
export function healthAfterRecheck(worker: Worker, answered: boolean, policy: HealthPolicy, now: number): WorkerHealth {
	const checks = (worker.offline?.checks ?? 0) + 1;
	if (answered) return {unreachableStreak: 0, offline: null, failedRechecks: 0};
	return {
		unreachableStreak: worker.unreachableStreak ?? 0,
		offline: {since: worker.offline?.since ?? now, checks, nextCheckAt: now + recheckDelay(checks, policy)},
		failedRechecks: checks,
	};
}

/**
 * A worker added without the ssh check cannot be re-checked with ssh: it gets
 * one more job instead, and one more unreachable run takes it offline again,
 * for longer.
 */
export function healthOnProbation(worker: Worker, policy: HealthPolicy): WorkerHealth {
	return {unreachableStreak: Math.max(0, policy.offlineAfter - 1), offline: null, failedRechecks: (worker.offline?.checks ?? 0) + 1};
}

export function recheckDelay(failedChecks: number, policy: HealthPolicy): number {
	return Math.min(policy.maxRecheckAfterMs, policy.recheckAfterMs * 2 ** Math.min(failedChecks, 20));
}
