import {Low} from 'lowdb';
import type {FinishedRun} from '../../core/model.js';
import {UserError} from '../../core/user-error.js';
import {JournaledStateFile, type JournaledState} from './journaled-state-file.js';
import {stateFiles, type StateFiles} from './state-load.js';
import {finishClean, type HistoryFilter, type RemovedRun} from './history-clean.js';
import {applyChange, emptyState, type SchedulerState, type StateChange} from './scheduler-state.js';

export {loadState, StateFileError, stateFiles, type StateFiles} from './state-load.js';

// The scheduler's state on disk, in three files of the data dir:
//   state.json     a snapshot of the whole state (workers, queue, running jobs)
//   journal.jsonl  every change since that snapshot, one JSON line each, appended
//   history.jsonl  every finished run, one JSON line each, appended
// They are one lowdb database: a Low whose data is the live state and whose
// adapter (JournaledStateFile) reads the snapshot plus the journal and writes
// the journal. A change is acknowledged once its journal line is on disk
// (the journal is open with O_DSYNC: a write that returns is synced). Changes
// made in the same burst share one write (group commit), so saving costs one append per burst whatever the size of
// the queue; the snapshot is rewritten only when the journal has grown, and
// at start and stop. Each snapshot is also written to state.json.prev, a
// separate copy, and brings history.jsonl.prev (the history up to the
// snapshot) up to date: the last good copies to recover from, which the
// journal still fits.
//
// When a write fails (a full disk), the changes it carried are refused and
// the state in memory is read back from the files, so that it never claims
// what the disk does not hold.

/** A change that could not be saved (a full disk): it was not made. */
export class StateSaveError extends UserError {
	override name = 'StateSaveError';
}

export type StoreOptions = {
	/**
	 * false: never fdatasync/fsync. For throwaway data dirs only: a power cut
	 * (not a crash of the scheduler) may then lose acknowledged changes, or
	 * leave files that need the manual recovery their error names.
	 */
	sync?: boolean;
};

type Waiter = {resolve: () => void; reject: (error: Error) => void};

export class StateStore {
	readonly files: StateFiles;
	readonly #db: Low<JournaledState>;
	readonly #file: JournaledStateFile;
	/** Waiters for the changes in `unsaved`: they resolve when the write that takes them is synced. */
	#waiters: Waiter[] = [];
	#flushing: Promise<void> | undefined;
	#onReload: ((error: Error) => void) | undefined;
	#closed = false;

	/** Loads the state and takes ownership of its files: only one process may hold a store. */
	static async open(dataDir: string, options: StoreOptions = {}): Promise<StateStore> {
		const files = stateFiles(dataDir);
		const file = new JournaledStateFile(files, {sync: options.sync ?? true});
		const db = new Low<JournaledState>(file, {state: emptyState(), seq: 0, unsaved: []});
		await db.read();
		await file.openForWriting();
		// A fresh snapshot makes the next start quick. Without room for it (a nearly full disk)
		// the journal still holds everything: the scheduler starts all the same, and tries again later.
		await file.snapshot(db.data).catch(() => undefined);
		return new StateStore(files, db, file);
	}

	private constructor(files: StateFiles, db: Low<JournaledState>, file: JournaledStateFile) {
		this.files = files;
		this.#db = db;
		this.#file = file;
	}

	get state(): SchedulerState {
		return this.#db.data.state;
	}

	/** Called after a failed write put the state back to what the files hold. */
	onReload(listener: (error: Error) => void): void {
		this.#onReload = listener;
	}

	/**
	 * Applies the changes to the state at once and resolves when they are on
	 * disk. Changes applied in the same tick, or while a write is under way,
	 * are saved together in one write.
	 */
	async apply(changes: readonly StateChange[]): Promise<void> {
		const data = this.#db.data;
		for (const change of changes) {
			applyChange(data.state, change);
			data.unsaved.push({seq: ++data.seq, change});
		}

		const saved = new Promise<void>((resolve, reject) => {
			this.#waiters.push({resolve, reject});
		});
		this.#flushing ??= Promise.resolve().then(async () => this.#flush());
		return saved;
	}

	/** Told how many finished runs each write added to the history. */
	onRunsRecorded(listener: (count: number) => void): void {
		this.#file.onRunsRecorded = listener;
	}

	/**
	 * Removes from the history the runs `remove` picks, then their log files.
	 * `count` sees every run first, in the same order, so that `remove` may
	 * depend on counts (the newest N).
	 * Changes applied meanwhile wait (they are saved, and acknowledged, once
	 * the history is replaced); a crash at any moment leaves the old history
	 * or the new one, and the next start finishes removing the log files.
	 */
	async cleanHistory(remove: HistoryFilter, count: (run: FinishedRun) => void): Promise<{removed: RemovedRun[]; keptRuns: number; removedLogs: number; removedLogBytes: number}> {
		if (this.#closed) throw new UserError('the scheduler is stopping');
		while (this.#flushing) await this.#flushing;
		let release!: () => void;
		// Holding #flushing keeps every other write out: apply() only queues its changes meanwhile.
		this.#flushing = new Promise<void>(resolve => {
			release = resolve;
		});
		let rewritten: {removed: RemovedRun[]; keptRuns: number};
		let snapshotted = true;
		try {
			rewritten = await this.#file.rewriteHistory(this.#db.data, remove, count);
			if (rewritten.removed.length > 0) {
				// The changes that came meanwhile, then (with none left unsaved, at this very tick) the snapshot of the new size.
				await this.#writeUnsaved();
				snapshotted = await this.#file.snapshot(this.#db.data).then(() => true, () => false);
			}
		} finally {
			this.#flushing = undefined;
			release();
			if (this.#db.data.unsaved.length > 0) this.#flushing = this.#flush();
		}

		// Without that snapshot clean.pending must stay: it is what tells the next start the history's new size.
		const logs = await finishClean(this.files, rewritten.removed.map(run => run.logFile), snapshotted);
		return {removed: rewritten.removed, keptRuns: rewritten.keptRuns, ...logs};
	}

	/**
	 * Waits for every change to be saved, writes a fresh snapshot and closes
	 * the files. A snapshot that cannot be written (a full disk) loses
	 * nothing: the journal still holds every change, and the next start
	 * replays it; the error says so.
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await this.#flushing;
		try {
			await this.#file.snapshot(this.#db.data);
		} catch (error) {
			throw new StateSaveError(`the final snapshot ${this.files.state} could not be written (${(error as Error).message}); nothing is lost: ${this.files.journal} holds every change, and the next start replays it`);
		} finally {
			await this.#file.close();
		}
	}

	async #flush(): Promise<void> {
		await this.#writeUnsaved();
		this.#flushing = undefined;
	}

	async #writeUnsaved(): Promise<void> {
		// this.#db.data afresh each time: a failed write replaces it with what the files hold.
		while (this.#db.data.unsaved.length > 0) {
			// The write takes every change in `unsaved` at once: these are the waiters it serves.
			const waiters = this.#waiters;
			this.#waiters = [];
			try {
				await this.#db.write();
			} catch (error) {
				this.#refuseUnsaved(waiters, error as Error);
				continue;
			}

			for (const waiter of waiters) waiter.resolve();
		}
	}

	/**
	 * A journal write failed: every change not on disk yet is refused (those
	 * applied since, too, as they were built on the refused ones), and the
	 * state is read back from the files.
	 */
	#refuseUnsaved(waiters: Waiter[], cause: Error): void {
		const failure = new StateSaveError(`could not save the state in ${this.files.journal}: ${cause.message}; the change was not made`);
		const refused = [...waiters, ...this.#waiters];
		this.#waiters = [];
		// Synchronously, so that nothing is applied to the state that was refused in between.
		this.#db.data = this.#file.readSync();
		for (const waiter of refused) waiter.reject(failure);
		this.#onReload?.(failure);
	}
}
