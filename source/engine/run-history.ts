import type {FinishedRun} from '../core/model.js';
import type {SchedulerEvent} from '../core/scheduler.js';
import {totalsOf, type RunTotals} from '../core/run-totals.js';
import {readHistoryFrom, readHistoryTail} from './state/history-file.js';

/** How many finished runs the engine keeps in memory for the UI and `status`. */
export const recentRunsKept = 1000;

// The runs that ended: the newest ones in memory, every one in the history
// file (the newest may still be on their way to it), and the totals.

export class RunHistory {
	static async load(historyFile: string): Promise<RunHistory> {
		return new RunHistory(historyFile, await readHistoryTail(historyFile, recentRunsKept));
	}

	readonly recent: FinishedRun[];
	readonly totals = {done: 0, failed: 0};
	readonly #historyFile: string;

	private constructor(historyFile: string, recent: FinishedRun[]) {
		this.#historyFile = historyFile;
		this.recent = recent;
	}

	/** The last run of each of these jobs, from the runs kept in memory or else the history file. */
	async lastRunsOf(ids: number[]): Promise<Map<number, FinishedRun>> {
		const found = new Map<number, FinishedRun>();
		const wanted = new Set(ids);
		for (const run of this.recent) if (wanted.has(run.id)) found.set(run.id, run);
		if (found.size === wanted.size) return found;
		const all = await this.allLastRuns();
		for (const id of wanted) {
			const run = all.get(id);
			if (run) found.set(id, run);
		}

		return found;
	}

	/** Every job's last run: the history file has every run, the newest ones may still be on their way to it. */
	async allLastRuns(): Promise<Map<number, FinishedRun>> {
		const lastRuns = new Map<number, FinishedRun>();
		const fromFile = await readHistoryFrom(this.#historyFile, 0);
		const inFile = new Set(fromFile.map(run => run.runId));
		for (const run of fromFile) lastRuns.set(run.id, run);
		for (const run of this.recent) if (!inFile.has(run.runId)) lastRuns.set(run.id, run);
		return lastRuns;
	}

	/** Adds runs that ended, and what they add to the totals. */
	record(runs: readonly FinishedRun[], totals: RunTotals): void {
		this.recent.push(...runs);
		this.totals.done += totals.done;
		this.totals.failed += totals.failed;
		if (this.recent.length > recentRunsKept) this.recent.splice(0, this.recent.length - recentRunsKept);
	}

	/** Runs whose end was refused by a failed save: the state, read back, has them running or queued again. */
	forget(rolledBack: (run: FinishedRun) => boolean): void {
		const forgotten = this.recent.filter(run => rolledBack(run));
		if (forgotten.length === 0) return;
		// They are counted again when they are finished again.
		const counted = totalsOf(forgotten);
		this.totals.done -= counted.done;
		this.totals.failed -= counted.failed;
		const kept = this.recent.filter(run => !rolledBack(run));
		this.recent.splice(0, this.recent.length, ...kept);
	}

	/** Runs that clean or the retention policy removed from the history: they must not outlive it here. The totals stay. */
	drop(removedRunIds: ReadonlySet<number>): void {
		const kept = this.recent.filter(run => !removedRunIds.has(run.runId));
		this.recent.splice(0, this.recent.length, ...kept);
	}

	/** Records the dependency-failed runs of a change, and returns the events that tell of them. */
	recordDependencyFailures(runs: FinishedRun[], wereQueued = true): SchedulerEvent[] {
		if (runs.length === 0) return [];
		const at = runs[0]!.endedAt;
		this.record(runs, totalsOf(runs));
		return [
			...(wereQueued ? [{type: 'jobs-removed' as const, ids: runs.map(run => run.id), at}] : []),
			...runs.map(run => ({type: 'job-finished' as const, run, at})),
		];
	}
}
