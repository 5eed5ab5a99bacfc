import type {SchedulerModel} from './scheduler-model.js';
import type {ShownTime} from './next-visible-change.js';

export type Progress = {
	readonly finished: number;
	/** Finished in this session plus everything still queued or running. */
	readonly total: number;
	readonly fraction: number;
	readonly jobsPerMinute?: number;
	readonly etaMs?: number;
};

/** What the rate counts: jobs finished since a moment. */
function rateBasis(model: SchedulerModel): {readonly since: number; readonly counted: number} {
	const {finished, firstFinishAt, startedAt} = model.session;
	// Measured from the first finish once there is one: an idle morning should not drag the rate down.
	return finished >= 2 && firstFinishAt !== undefined ? {since: firstFinishAt, counted: finished - 1} : {since: startedAt, counted: finished};
}

/** The header's progress over the jobs this session has seen, with throughput and an ETA. */
export function sessionProgress(model: SchedulerModel, now: number): Progress {
	const {finished} = model.session;
	const remaining = model.queueLength + model.running.size;
	const total = finished + remaining;
	const fraction = total === 0 ? 0 : finished / total;
	const {since, counted} = rateBasis(model);
	const elapsed = now - since;
	if (counted === 0 || elapsed <= 0) return {finished, total, fraction};
	const perMs = counted / elapsed;
	return {finished, total, fraction, jobsPerMinute: perMs * 60_000, etaMs: remaining > 0 && !model.paused ? remaining / perMs : undefined};
}

/** When the header's rate or ETA next reads differently: the ETA every second; a rate alone, once it drops to the next value shown. */
export function nextProgressChange(progress: Progress, model: SchedulerModel, now: number): ShownTime | undefined {
	if (progress.etaMs !== undefined) return {at: now + 1000};
	const rate = progress.jobsPerMinute;
	if (rate === undefined) return undefined;
	// Shown as 9.5 or 120 (see the header): it reads differently once it drops below the rounding's lower half step, or below 10 where a decimal appears.
	const shown = Number(rate.toFixed(rate < 10 ? 1 : 0));
	const below = rate < 10 ? shown - 0.05 : Math.max(shown - 0.5, 10);
	if (below <= 0) return undefined;
	const {since, counted} = rateBasis(model);
	return {at: since + Math.ceil(counted * 60_000 / below) + 1};
}
