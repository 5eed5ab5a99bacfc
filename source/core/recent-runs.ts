import type {FinishedRun} from './model.js';

/**
 * The newest `count` runs of the history file, completed with the runs a
 * scheduler holds in memory: a run reaches the file a moment after the
 * scheduler records it, and must never be in neither `running` nor `finished`.
 */
export function withRecentRuns(fromFile: FinishedRun[], recent: readonly FinishedRun[], count: number | 'all'): FinishedRun[] {
	const known = new Set(fromFile.map(run => run.runId));
	const missing = recent.filter(run => !known.has(run.runId));
	const all = missing.length === 0 ? fromFile : [...fromFile, ...missing];
	return count === 'all' || all.length <= count ? all : all.slice(-count);
}
