import type {SchedulerModel} from './scheduler-model.js';

export type Progress = {
	readonly finished: number;
	/** Finished in this session plus everything still queued or running. */
	readonly total: number;
	readonly fraction: number;
	readonly jobsPerMinute?: number;
	readonly etaMs?: number;
};

/** The header's progress over the jobs this session has seen, with throughput and an ETA. */
export function sessionProgress(model: SchedulerModel, now: number): Progress {
	const {finished, firstFinishAt, startedAt} = model.session;
	const remaining = model.queueLength + model.running.size;
	const total = finished + remaining;
	const fraction = total === 0 ? 0 : finished / total;
	// Measured from the first finish once there is one: an idle morning should not drag the rate down.
	const since = finished >= 2 && firstFinishAt !== undefined ? firstFinishAt : startedAt;
	const counted = finished >= 2 && firstFinishAt !== undefined ? finished - 1 : finished;
	const elapsed = now - since;
	if (counted === 0 || elapsed <= 0) return {finished, total, fraction};
	const perMs = counted / elapsed;
	return {finished, total, fraction, jobsPerMinute: perMs * 60_000, etaMs: remaining > 0 && !model.paused ? remaining / perMs : undefined};
}
