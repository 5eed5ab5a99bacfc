import {copyFile, open, rename, stat, type FileHandle} from 'node:fs/promises';
import {Low} from 'lowdb';
import type {FinishedRun} from '../../core/model.js';
import {UserError} from '../../core/user-error.js';
import {appendAll, isHistoryLine, readFirstLine} from './durable-file.js';
import {formatHistoryLines, readHistoryFrom} from './history-file.js';
import {PrivateTextFile} from './private-text-file.js';
import {parseState, readTextSync, StateFileError, type JournalEntry, type LoadedState, type SnapshotDocument, type StateFiles, loadState, stateFiles} from './state-load.js';
import {
	applyChange,
	documentFromState,
	finishedRunsOf,
	type SchedulerState,
	type StateChange,
} from './scheduler-state.js';

export {loadState, StateFileError, stateFiles, type StateFiles} from './state-load.js';

// The scheduler's state on disk, in three files of the data dir:
//   state.json     a lowdb snapshot of the whole state (workers, queue, running jobs)
//   journal.jsonl  every change since that snapshot, one JSON line each, appended
//   history.jsonl  every finished run, one JSON line each, appended
// A change is acknowledged once its journal line is written. Changes made in
// the same burst share one write (group commit), so saving costs one append
// per burst whatever the size of the queue; the snapshot is rewritten only
// when the journal has grown, and at start and stop. Each snapshot is also
// written to state.json.prev, a separate copy, and brings history.jsonl.prev
// (the history up to the snapshot) up to date: the last good copies to
// recover from, which the journal still fits.
//
// When a write fails (a full disk), the changes it carried are refused and
// the state in memory is read back from the files, so that it never claims
// what the disk does not hold.

/** A change that could not be saved (a full disk): it was not made. */
export class StateSaveError extends UserError {
	override name = 'StateSaveError';
}


type Waiter = {resolve: () => void; reject: (error: Error) => void};

const compactAfterBytes = 8 * 1024 * 1024;

export class StateStore {
	readonly files: StateFiles;
	#state: SchedulerState;
	/** The snapshot's text: serialised by #compact, written by lowdb. */
	readonly #snapshot: Low<string>;
	readonly #journal: FileHandle;
	readonly #history: FileHandle;
	#seq: number;
	#journalBytes: number;
	#historyBytes: number;
	#pendingLines: string[] = [];
	/** Finished runs whose journal line is not written yet: they go to the history only once it is. */
	#pendingHistory: FinishedRun[] = [];
	/** Finished runs in the journal but not yet in the history (its write failed): the next write adds them. */
	#unsavedHistory: FinishedRun[] = [];
	#waiters: Waiter[] = [];
	#flushing: Promise<void> | undefined;
	#onReload: ((error: Error) => void) | undefined;

	/** Loads the state and takes ownership of its files: only one process may hold a store. */
	static async open(dataDir: string): Promise<StateStore> {
		const files = stateFiles(dataDir);
		const loaded = await loadState(files);
		const journal = await open(files.journal, 'a+', 0o600);
		const history = await open(files.history, 'a+', 0o600);
		const store = new StateStore(files, loaded, journal, history);
		try {
			await store.#repairHistory(loaded.finishedAfterSnapshot, loaded.historyBytesAtSnapshot);
			await store.#compact();
		} catch (error) {
			await journal.close();
			await history.close();
			throw error;
		}

		return store;
	}

	private constructor(files: StateFiles, loaded: LoadedState, journal: FileHandle, history: FileHandle) {
		this.files = files;
		this.#state = loaded.state;
		this.#snapshot = new Low(new PrivateTextFile(files.state), '');
		this.#journal = journal;
		this.#history = history;
		this.#seq = loaded.seq;
		this.#journalBytes = 0;
		this.#historyBytes = 0;
	}

	get state(): SchedulerState {
		return this.#state;
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
		for (const change of changes) {
			applyChange(this.#state, change);
			this.#pendingLines.push(JSON.stringify({seq: ++this.#seq, change} satisfies JournalEntry));
			this.#pendingHistory.push(...finishedRunsOf(change));
		}

		const saved = new Promise<void>((resolve, reject) => {
			this.#waiters.push({resolve, reject});
		});
		this.#flushing ??= Promise.resolve().then(async () => this.#flush());
		return saved;
	}

	/** Waits for every change to be saved, writes a fresh snapshot and closes the files. */
	async close(): Promise<void> {
		await this.#flushing;
		await this.#compact();
		await this.#journal.close();
		await this.#history.close();
	}

	async #flush(): Promise<void> {
		while (this.#pendingLines.length > 0) {
			const text = this.#pendingLines.join('\n') + '\n';
			const waiters = this.#waiters;
			const finished = this.#pendingHistory;
			this.#pendingLines = [];
			this.#waiters = [];
			this.#pendingHistory = [];
			try {
				this.#journalBytes = await appendAll(this.#journal, text, this.#journalBytes);
			} catch (error) {
				this.#refuseUnsaved(waiters, error as Error);
				continue;
			}

			// Only now, and only this batch's runs: a run in the history must be finished in the journal,
			// or a restart would finish it again. Should this write fail, the next one adds them.
			this.#unsavedHistory.push(...finished);
			await this.#appendUnsavedHistory().catch(() => undefined);
			for (const waiter of waiters) waiter.resolve();
		}

		if (this.#journalBytes > compactAfterBytes) await this.#compact().catch(() => undefined);
		this.#flushing = undefined;
		// Changes applied while the snapshot was being written still need their own write.
		if (this.#pendingLines.length > 0) this.#flushing = this.#flush();
	}

	async #appendUnsavedHistory(): Promise<void> {
		if (this.#unsavedHistory.length === 0) return;
		this.#historyBytes = await appendAll(this.#history, formatHistoryLines(this.#unsavedHistory), this.#historyBytes);
		this.#unsavedHistory = [];
	}

	/**
	 * A journal write failed: every change not on disk yet is refused (those
	 * applied since, too, as they were built on the refused ones), and the
	 * state is read back from the files.
	 */
	#refuseUnsaved(waiters: Waiter[], cause: Error): void {
		const failure = new StateSaveError(`could not save the state in ${this.files.journal}: ${cause.message}; the change was not made`);
		const refused = [...waiters, ...this.#waiters];
		this.#pendingLines = [];
		this.#waiters = [];
		// Runs whose finish was refused are running again as far as the state knows.
		this.#pendingHistory = [];
		// Synchronously, so that nothing is applied to the state that was refused in between.
		const loaded = parseState(this.files, readTextSync(this.files.state), readTextSync(this.files.journal) ?? '');
		this.#state = loaded.state;
		this.#seq = loaded.seq;
		for (const waiter of refused) waiter.reject(failure);
		this.#onReload?.(failure);
	}

	/**
	 * Folds the journal into a new snapshot. Must be called when no journal
	 * line is pending: the snapshot is serialised at once, so that changes
	 * applied while it is written (not in the journal yet) are not in it.
	 * No flush runs meanwhile, so the history grows only by the unsaved runs.
	 */
	async #compact(): Promise<void> {
		const unsavedBytes = this.#unsavedHistory.length === 0 ? 0 : Buffer.byteLength(formatHistoryLines(this.#unsavedHistory));
		this.#snapshot.data = JSON.stringify({...documentFromState(this.#state, this.#seq), historyBytes: this.#historyBytes + unsavedBytes} satisfies SnapshotDocument);
		// The journal is what tells a restart which runs the history still lacks: keep it until they are in.
		await this.#appendUnsavedHistory();
		await this.#updatePreviousHistory();
		await this.#snapshot.write();
		await this.#journal.truncate(0);
		this.#journalBytes = 0;
	}

	/** Brings history.jsonl.prev up to the history as it is now: it only ever grows, so only the new bytes are copied. */
	async #updatePreviousHistory(): Promise<void> {
		const previousBytes = (await stat(this.files.previousHistory).catch(() => undefined))?.size;
		if (previousBytes === this.#historyBytes) return;
		if (previousBytes === undefined || previousBytes > this.#historyBytes) {
			// None yet, or one from another history: a whole copy, put in place at once.
			const temporary = `${this.files.previousHistory}.tmp`;
			await copyFile(this.files.history, temporary);
			await rename(temporary, this.files.previousHistory);
			return;
		}

		const added = Buffer.alloc(this.#historyBytes - previousBytes);
		await this.#history.read(added, 0, added.length, previousBytes);
		const previous = await open(this.files.previousHistory, 'a', 0o600);
		try {
			await appendAll(previous, added.toString('utf8'), previousBytes);
		} finally {
			await previous.close();
		}
	}

	/**
	 * Checks the history against the snapshot and adds the runs it lacks: a
	 * crash between the journal's write and the history's leaves runs that
	 * are finished in the journal but not in the history. Only the part
	 * written since the snapshot is read, whatever the size of the history.
	 */
	async #repairHistory(finishedAfterSnapshot: FinishedRun[], historyBytesAtSnapshot: number): Promise<void> {
		const {size} = await this.#history.stat();
		const recovery = `nothing was changed. Its last good copy is ${this.files.previousHistory}: move the damaged file away and copy that one into its place; jobdeck adds back the runs saved since.`;
		if (size < historyBytesAtSnapshot) {
			throw new StateFileError(`history file ${this.files.history} is cut short (${size} bytes, the state says at least ${historyBytesAtSnapshot}); ${recovery}`);
		}

		// The line just before the snapshot's mark, and the file's first line, are checked too:
		// a history that was replaced or damaged there is found at once.
		const from = Math.max(0, historyBytesAtSnapshot - 64 * 1024);
		const tail = Buffer.alloc(size - from);
		await this.#history.read(tail, 0, tail.length, from);
		const text = tail.toString('utf8');
		const lines = text.split('\n');
		// A last line without its newline is an append a crash cut short: its runs are in the journal.
		const cutShort = lines.pop()!;
		if (from > 0 && lines.length > 0) lines.shift();
		const head = from > 0 ? await readFirstLine(this.#history) : undefined;
		for (const [index, line] of [...(head === undefined ? [] : [head]), ...lines].entries()) {
			if (!isHistoryLine(line)) {
				const where = index === 0 && head !== undefined ? 'its first line' : `a line near byte ${from + text.indexOf(line)}`;
				throw new StateFileError(`history file ${this.files.history} is damaged (${where} is not a finished run); ${recovery}`);
			}
		}

		const validBytes = size - Buffer.byteLength(cutShort);
		if (validBytes < historyBytesAtSnapshot) {
			throw new StateFileError(`history file ${this.files.history} is damaged (it does not end in a full line where the state says it did); ${recovery}`);
		}

		if (validBytes < size) await this.#history.truncate(validBytes);
		this.#historyBytes = validBytes;
		if (finishedAfterSnapshot.length === 0) return;
		const recorded = new Set((await readHistoryFrom(this.files.history, historyBytesAtSnapshot)).map(run => run.runId));
		const missing = finishedAfterSnapshot.filter(run => !recorded.has(run.runId));
		if (missing.length > 0) this.#historyBytes = await appendAll(this.#history, formatHistoryLines(missing), this.#historyBytes);
	}
}

