import {open} from 'node:fs/promises';
import type {FinishedRun} from '../core/model.js';
import {changedPolicy, type CleanRequest, type CleanResult, type RetentionChange, type RetentionPolicy, type RetentionStatus} from '../core/retention.js';
import {readFirstLine} from './state/durable-file.js';
import type {HistoryFilter} from './state/history-clean.js';
import type {SchedulerState} from './state/scheduler-state.js';
import type {StateStore} from './state/state-store.js';

// The engine's side of retention: which finished runs a clean removes, and
// the policy that cleans by itself. What a run still needs keeps it, whatever
// the criteria say (docs/commands.md (clean)):
//   - every run of a job that is queued or running (its earlier attempts);
//   - the last run of each job that a queued or running job runs `--after`:
//     it says whether that dependency succeeded, which a retry of the
//     dependant is checked against.

/** The least time between two cleans the policy starts, so that a steady stream of runs is cleaned in batches. */
const policyPauseMs = 1000;
/** How often a `--keep-for` policy looks at the oldest run: a tenth of the time it keeps runs, within these bounds. */
const ageCheckBounds = {min: 1000, max: 10 * 60_000};

type Selection = {
	/** Whether a run's outcome and age let it be removed, before counts and protection. */
	eligible: (run: FinishedRun) => boolean;
	/** Whether criteria on the run's rank are met: the rank counts from 0 among the runs `counted` lets through, `total` of them. */
	byRank: (rank: number, total: number) => boolean;
	counted: (run: FinishedRun) => boolean;
	/** true: a run goes when it is eligible AND the rank says so (clean); false: when either says so (the policy). */
	both: boolean;
};

export class Retention {
	readonly #store: StateStore;
	readonly #onCleaned: (removedRunIds: ReadonlySet<number>) => void;
	readonly #onError: (message: string) => void;
	#lastClean: RetentionStatus['lastClean'] = null;
	/** Runs in the history, counted once a policy needs the number. */
	#finishedRuns: number | undefined;
	/** Cleans run one at a time. */
	#cleaning: Promise<unknown> = Promise.resolve();
	#policyTimer: NodeJS.Timeout | undefined;
	#ageTimer: NodeJS.Timeout | undefined;
	#lastPolicyCleanAt = 0;
	/** A policy clean is under way: none is scheduled meanwhile (it would follow at once and remove only the runs that came since). */
	#policyCleaning = false;
	#closed = false;

	constructor(store: StateStore, onCleaned: (removedRunIds: ReadonlySet<number>) => void, onError: (message: string) => void) {
		this.#store = store;
		this.#onCleaned = onCleaned;
		this.#onError = onError;
		store.onRunsRecorded(count => {
			if (this.#finishedRuns !== undefined) this.#finishedRuns += count;
			this.#schedulePolicyClean();
		});
	}

	get policy(): RetentionPolicy {
		return this.#store.state.retention;
	}

	status(): RetentionStatus {
		return {
			keepFinished: this.policy.keepFinished ?? null,
			keepForMs: this.policy.keepForMs ?? null,
			finishedRuns: this.#finishedRuns ?? null,
			lastClean: this.#lastClean,
		};
	}

	/** At start: a policy given on the command line replaces the saved one (and is saved); then it applies at once. */
	async start(change: RetentionChange | undefined): Promise<void> {
		const saved = this.policy;
		const policy = change === undefined ? saved : changedPolicy(saved, change);
		if (policy.keepFinished !== saved.keepFinished || policy.keepForMs !== saved.keepForMs) {
			await this.#store.apply([{type: 'retention-set', retention: policy}]);
		}

		await this.#countWhenNeeded();
		this.#armAgeCheck();
		this.#schedulePolicyClean();
	}

	async clean(request: CleanRequest): Promise<CleanResult> {
		const outcomes = request.outcomes === undefined ? undefined : new Set(request.outcomes);
		const cutoff = request.olderThanMs === undefined ? undefined : Date.now() - request.olderThanMs;
		return this.#run('clean', {
			eligible: run => (outcomes === undefined || outcomes.has(run.outcome)) && (cutoff === undefined || run.endedAt < cutoff),
			counted: run => outcomes === undefined || outcomes.has(run.outcome),
			byRank: (rank, total) => request.keep === undefined || rank < total - request.keep,
			both: true,
		});
	}

	async close(): Promise<void> {
		this.#closed = true;
		clearTimeout(this.#policyTimer);
		clearInterval(this.#ageTimer);
		await this.#cleaning.catch(() => undefined);
	}

	async #run(by: 'clean' | 'policy', selection: Selection): Promise<CleanResult> {
		const result = this.#cleaning.catch(() => undefined).then(async () => this.#cleanNow(by, selection));
		this.#cleaning = result;
		return result;
	}

	async #cleanNow(by: 'clean' | 'policy', selection: Selection): Promise<CleanResult> {
		const state = this.#store.state;
		const protection = protectionOf(state);
		// The first pass (in the store, under its lock: nothing is appended meanwhile) counts, the second removes.
		let total = 0;
		const lastRunOf = new Map<number, number>();
		let protectedRuns = 0;
		const byOutcome: CleanResult['byOutcome'] = {};
		let first = Number.POSITIVE_INFINITY;
		let last = Number.NEGATIVE_INFINITY;
		// Both passes see the runs in the same order, so the second numbers them the same way as it goes.
		let rank = 0;
		const filter: HistoryFilter = run => {
			const counted = selection.counted(run);
			const byRank = counted && selection.byRank(rank++, total);
			const chosen = selection.both ? byRank && selection.eligible(run) : byRank || selection.eligible(run);
			if (!chosen) return false;
			if (protection.isLive(run.id) || lastRunOf.get(run.id) === run.runId) {
				protectedRuns++;
				return false;
			}

			byOutcome[run.outcome] = (byOutcome[run.outcome] ?? 0) + 1;
			first = Math.min(first, run.id);
			last = Math.max(last, run.id);
			return true;
		};

		const counting = (run: FinishedRun) => {
			if (selection.counted(run)) total++;
			if (protection.dependencies.has(run.id)) lastRunOf.set(run.id, run.runId);
		};

		const cleaned = await this.#store.cleanHistory(filter, counting);
		const removedIds = new Set(cleaned.removed.map(run => run.runId));
		if (removedIds.size > 0) this.#onCleaned(removedIds);
		this.#finishedRuns = cleaned.keptRuns;
		const result: CleanResult = {
			removedRuns: cleaned.removed.length,
			removedLogs: cleaned.removedLogs,
			removedLogBytes: cleaned.removedLogBytes,
			byOutcome,
			...(cleaned.removed.length > 0 && {jobIds: {first, last}}),
			keptRuns: cleaned.keptRuns,
			protectedRuns,
		};
		this.#lastClean = {...result, at: Date.now(), by};
		return result;
	}

	async #countWhenNeeded(): Promise<void> {
		if (this.policy.keepFinished === undefined || this.#finishedRuns !== undefined) return;
		this.#finishedRuns = await countLines(this.#store.files.history);
	}

	/** Once runs were recorded: a clean when the history holds more than the policy keeps, by a tenth (at least one). */
	#schedulePolicyClean(): void {
		const {keepFinished} = this.policy;
		if (this.#closed || this.#policyTimer || this.#policyCleaning || keepFinished === undefined || this.#finishedRuns === undefined) return;
		if (this.#finishedRuns <= keepFinished + Math.max(1, Math.ceil(keepFinished / 10))) return;
		this.#policyTimer = setTimeout(() => {
			this.#policyTimer = undefined;
			void this.#policyClean();
		}, Math.max(0, this.#lastPolicyCleanAt + policyPauseMs - Date.now()));
		this.#policyTimer.unref();
	}

	#armAgeCheck(): void {
		const {keepForMs} = this.policy;
		if (keepForMs === undefined) return;
		const every = Math.min(ageCheckBounds.max, Math.max(ageCheckBounds.min, keepForMs / 10));
		const check = async () => {
			const oldest = await oldestEndedAt(this.#store.files.history).catch(() => undefined);
			if (oldest !== undefined && oldest < Date.now() - keepForMs) await this.#policyClean();
		};

		this.#ageTimer = setInterval(() => void check(), every);
		this.#ageTimer.unref();
		void check();
	}

	async #policyClean(): Promise<void> {
		if (this.#closed) return;
		const {keepFinished, keepForMs} = this.policy;
		if (keepFinished === undefined && keepForMs === undefined) return;
		this.#lastPolicyCleanAt = Date.now();
		this.#policyCleaning = true;
		const cutoff = keepForMs === undefined ? undefined : Date.now() - keepForMs;
		try {
			await this.#run('policy', {
				eligible: run => cutoff !== undefined && run.endedAt < cutoff,
				counted: () => true,
				byRank: (rank, total) => keepFinished !== undefined && rank < total - keepFinished,
				both: false,
			});
		} catch (error) {
			// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may have come while the clean awaited
			if (!this.#closed) this.#onError(`retention: the history could not be cleaned (${(error as Error).message}); nothing was removed, and it is tried again with the next runs`);
		}

		this.#policyCleaning = false;
		this.#lastPolicyCleanAt = Date.now();
		this.#schedulePolicyClean();
	}
}

/** What protects runs from removal, read from the state as the clean begins. */
function protectionOf(state: SchedulerState): {isLive: (id: number) => boolean; dependencies: Set<number>} {
	const dependencies = new Set<number>();
	for (const job of state.queue.values()) for (const id of job.after ?? []) dependencies.add(id);
	for (const run of state.running.values()) for (const id of run.after ?? []) dependencies.add(id);
	return {isLive: id => state.queue.has(id) || state.runningJobIds.has(id), dependencies};
}

async function countLines(path: string): Promise<number> {
	const handle = await open(path, 'r').catch(() => undefined);
	if (!handle) return 0;
	try {
		const buffer = Buffer.alloc(1024 * 1024);
		let count = 0;
		let position = 0;
		for (;;) {
			const {bytesRead} = await handle.read(buffer, 0, buffer.length, position);
			if (bytesRead === 0) return count;
			position += bytesRead;
			for (let at = buffer.indexOf(10, 0); at !== -1 && at < bytesRead; at = buffer.indexOf(10, at + 1)) count++;
		}
	} finally {
		await handle.close();
	}
}

async function oldestEndedAt(path: string): Promise<number | undefined> {
	const handle = await open(path, 'r');
	try {
		const line = await readFirstLine(handle);
		return line === '' ? undefined : (JSON.parse(line) as FinishedRun).endedAt;
	} finally {
		await handle.close();
	}
}
