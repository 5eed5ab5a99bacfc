import type {FinishedRun} from './model.js';

// What "done" and "failed" count, everywhere (the engine's totals, the UI's,
// `status` with no scheduler): jobs, not attempts.
//   done:    a job whose run succeeded.
//   failed:  a job that ended for good without success: its retries spent, or
//            cancelled, timed out, lost, or never run as a job it waited for failed.
//   retried: a run that did not succeed and whose job went back to the queue
//            (`requeued`); it is neither done nor failed.

export type RunTotals = {done: number; failed: number};

export function isRetried(run: FinishedRun): boolean {
	return run.requeued !== undefined;
}

export function failedForGood(run: FinishedRun): boolean {
	return run.outcome !== 'succeeded' && !isRetried(run);
}

/** What these runs add to the totals. */
export function totalsOf(runs: Iterable<FinishedRun>): RunTotals {
	const totals = {done: 0, failed: 0};
	for (const run of runs) {
		if (run.outcome === 'succeeded') totals.done++;
		else if (failedForGood(run)) totals.failed++;
	}

	return totals;
}
