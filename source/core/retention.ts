import type {RunOutcome} from './model.js';
import {UserError} from './user-error.js';

// Retention: which finished runs (their history records and log files) a
// scheduler lets go of, asked for once (`jobdeck clean`) or kept as a policy
// (`start --keep-finished N`, `--keep-for DURATION`) that applies by itself.

/** The policy saved in the state; absent fields keep every run. */
export type RetentionPolicy = {
	/** At most this many finished runs are kept (the newest). */
	keepFinished?: number;
	/** Runs that ended longer ago than this are removed. */
	keepForMs?: number;
};

/** What `start --keep-finished/--keep-for` changes in the saved policy: null lifts a bound, absent leaves it. */
export type RetentionChange = {keepFinished?: number | null; keepForMs?: number | null};

export function changedPolicy(saved: RetentionPolicy, change: RetentionChange): RetentionPolicy {
	const policy: RetentionPolicy = {...saved};
	if (change.keepFinished !== undefined) {
		delete policy.keepFinished;
		if (change.keepFinished !== null) policy.keepFinished = change.keepFinished;
	}

	if (change.keepForMs !== undefined) {
		delete policy.keepForMs;
		if (change.keepForMs !== null) policy.keepForMs = change.keepForMs;
	}

	return policy;
}

/** One `clean`: a run is removed when it meets every criterion given. At least one is required. */
export type CleanRequest = {
	/** Only runs that ended longer ago than this. */
	olderThanMs?: number;
	/** Keeps the newest N runs (of those the outcome filter lets through). */
	keep?: number;
	/** Only runs with one of these outcomes. */
	outcomes?: RunOutcome[];
};

export type CleanResult = {
	/** How many finished runs were removed from the history, and how many of their log files. */
	removedRuns: number;
	removedLogs: number;
	removedLogBytes: number;
	/** Removed runs by outcome. */
	byOutcome: Partial<Record<RunOutcome, number>>;
	/** The lowest and highest job id among the removed runs (absent when none was removed). */
	jobIds?: {first: number; last: number};
	/** Finished runs left in the history. */
	keptRuns: number;
	/** Runs the criteria would have removed but that something still needs (see docs/commands.md (clean)). */
	protectedRuns: number;
};

/** What `status --json` shows of retention (scheduler.retention). */
export type RetentionStatus = {
	keepFinished: number | null;
	keepForMs: number | null;
	/** Finished runs in the history file now; null when not counted (no policy, or no scheduler running). */
	finishedRuns: number | null;
	/** The last clean, by `jobdeck clean` or by the policy, since this scheduler started. */
	lastClean: (CleanResult & {at: number; by: 'clean' | 'policy'}) | null;
};

export const runOutcomes: readonly RunOutcome[] = ['succeeded', 'failed', 'cancelled', 'timed-out', 'lost', 'dependency-failed'];

const longestRetentionMs = 10 * 366 * 24 * 3_600_000;

/** A duration for retention: 90s, 20m, 2h, 30d (a bare number is seconds). */
export function parseRetentionDuration(text: string, what: string): number {
	const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
	if (!match) throw new UserError(`${what} takes a duration like 90s, 20m, 2h or 30d, not ${JSON.stringify(text)}`);
	const unitMs = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
	const ms = Math.round(Number(match[1]) * unitMs);
	if (ms > longestRetentionMs) throw new UserError(`${what} must be at most 10 years, not ${JSON.stringify(text)}`);
	return ms;
}

export function parseRunCount(text: string, what: string): number {
	if (!/^\d+$/.test(text.trim()) || Number(text) > 1e12) throw new UserError(`${what} takes a whole number of runs (0 or more), not ${JSON.stringify(text)}`);
	return Number(text);
}

export function parseOutcomes(text: string): RunOutcome[] {
	const outcomes = text.split(',').map(word => word.trim());
	for (const outcome of outcomes) {
		if (!runOutcomes.includes(outcome as RunOutcome)) {
			throw new UserError(`--outcome takes ${runOutcomes.join(', ')} (several with commas), not ${JSON.stringify(outcome)}`);
		}
	}

	return [...new Set(outcomes)] as RunOutcome[];
}

/** The request as it arrives over the socket: refused in one line unless well formed. */
export function checkCleanRequest(value: unknown): CleanRequest {
	const request = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined) as Record<string, unknown> | undefined;
	if (!request) throw new UserError('malformed request: clean takes {olderThanMs?, keep?, outcomes?}');
	const count = (field: unknown) => field === undefined || (Number.isSafeInteger(field) && (field as number) >= 0);
	if (!count(request.olderThanMs) || (request.olderThanMs as number) > longestRetentionMs) throw new UserError('clean: olderThanMs must be a whole number of milliseconds, at most 10 years');
	if (!count(request.keep)) throw new UserError('clean: keep must be a whole number of runs');
	if (request.outcomes !== undefined && (!Array.isArray(request.outcomes) || !request.outcomes.every(outcome => runOutcomes.includes(outcome as RunOutcome)))) {
		throw new UserError(`clean: outcomes must be a list of ${runOutcomes.join(', ')}`);
	}

	const checked: CleanRequest = {
		...(request.olderThanMs !== undefined && {olderThanMs: request.olderThanMs as number}),
		...(request.keep !== undefined && {keep: request.keep as number}),
		...(request.outcomes !== undefined && {outcomes: request.outcomes as RunOutcome[]}),
	};
	if (checked.olderThanMs === undefined && checked.keep === undefined && checked.outcomes === undefined) {
		throw new UserError('clean needs --older-than, --keep or --outcome (`clean --keep 0` removes every finished run)');
	}

	return checked;
}

export function checkRetentionPolicy(value: unknown): RetentionPolicy {
	const policy = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
	const count = (field: unknown) => field === undefined || (Number.isSafeInteger(field) && (field as number) >= 0);
	if (!count(policy.keepFinished) || !count(policy.keepForMs) || policy.keepForMs === 0 || (policy.keepForMs as number) > longestRetentionMs) {
		throw new UserError('a retention policy is {keepFinished?: runs, keepForMs?: milliseconds above 0}');
	}

	return {
		...(policy.keepFinished !== undefined && {keepFinished: policy.keepFinished as number}),
		...(policy.keepForMs !== undefined && {keepForMs: policy.keepForMs as number}),
	};
}
