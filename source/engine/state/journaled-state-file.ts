import {unlink, type FileHandle} from 'node:fs/promises';
import type {Adapter} from 'lowdb';
import {appendAll, openForAppend, type Durability} from './durable-file.js';
import type {FinishedRun} from '../../core/model.js';
import {commitCleanedHistory, recoverClean, scanHistory, writeCleanManifest, writeKeptHistory, type HistoryFilter, type RemovedRun} from './history-clean.js';
import {HistoryWriter} from './history-writer.js';
import {PrivateTextFile} from './private-text-file.js';
import {loadState, loadStateSync, type JournalEntry, type LoadedState, type SnapshotDocument, type StateFiles} from './state-load.js';
import {documentFromState, finishedRunsOf, type SchedulerState} from './scheduler-state.js';

/** What the store's lowdb holds: the live state, and the changes made to it that the journal does not hold yet. */
export type JournaledState = {
	state: SchedulerState;
	/** The number of the last change applied to `state`. */
	seq: number;
	/** Changes applied to `state`, oldest first, not yet handed to a write. */
	unsaved: JournalEntry[];
};

const snapshotAfterJournalBytes = 8 * 1024 * 1024;

/**
 * lowdb's adapter for the scheduler's state. `read` loads the snapshot
 * (state.json) and replays the journal (journal.jsonl) after it. `write`
 * appends the changes not saved yet as one write, on disk when it returns
 * (the journal is written through, O_DSYNC), then hands the runs they
 * finished to the history, without waiting for that append; once the
 * journal has grown past a limit it also folds it into a new snapshot.
 * Writes must not overlap: the store runs one at a time, and batches every
 * change made meanwhile into the next (group commit).
 */
export class JournaledStateFile implements Adapter<JournaledState> {
	readonly files: StateFiles;
	readonly #durability: Durability;
	readonly #snapshot: PrivateTextFile;
	#journal: FileHandle | undefined;
	#history: HistoryWriter | undefined;
	#journalBytes = 0;
	#loaded: LoadedState | undefined;
	/** Told how many runs each write added to the history (retention counts them). */
	onRunsRecorded: ((count: number) => void) | undefined;

	constructor(files: StateFiles, durability: Durability) {
		this.files = files;
		this.#durability = durability;
		this.#snapshot = new PrivateTextFile(files.state, durability);
	}

	async read(): Promise<JournaledState> {
		return this.#fromLoaded(await loadState(this.files));
	}

	/** The same as `read`, synchronously: after a failed write the state is put back before anything else touches it. */
	readSync(): JournaledState {
		return this.#fromLoaded(loadStateSync(this.files));
	}

	/** Takes ownership of the files after a `read`: opens them for writing and adds to the history the runs it lacks. */
	async openForWriting(): Promise<void> {
		const loaded = this.#loaded;
		if (!loaded) throw new Error('the state file must be read before it is written');
		// Written through (O_DSYNC): the append that returns is the one on disk.
		this.#journal = await openForAppend(this.files.journal, this.#durability, {writeThrough: true});
		this.#journalBytes = (await this.#journal.stat()).size;
		try {
			// A clean that a crash cut short is undone or finished first: it may have changed the history's size.
			const historyBytesAtSnapshot = await recoverClean(this.files, loaded.historyBytesAtSnapshot);
			this.#history = await HistoryWriter.open(this.files, this.#durability);
			await this.#history.repair(loaded.finishedAfterSnapshot, historyBytesAtSnapshot);
		} catch (error) {
			await this.close();
			throw error;
		}
	}

	async write(data: JournaledState): Promise<void> {
		const {journal, history} = this.#owned();
		const entries = data.unsaved.splice(0);
		if (entries.length === 0) return;
		let text = '';
		for (const entry of entries) text += JSON.stringify(entry) + '\n';
		// Serialised now, while the state is exactly what the journal will hold after this write.
		const snapshot = this.#journalBytes + Buffer.byteLength(text) > snapshotAfterJournalBytes ? this.#serialise(data, entries) : undefined;
		// Written through: on disk once this returns. A failed append is cut off again (appendAll): its
		// entries are refused, and must not come back after a restart.
		this.#journalBytes = await appendAll(journal, text, this.#journalBytes);

		// Acknowledged from here on: what follows may fail without losing anything the journal holds.
		const runs = entries.flatMap(entry => finishedRunsOf(entry.change));
		history.add(runs);
		if (runs.length > 0) this.onRunsRecorded?.(runs.length);
		if (snapshot !== undefined) await this.#writeSnapshot(snapshot).catch(() => undefined);
	}

	/** Folds the journal into a new snapshot now. Only when every change is written: `unsaved` must be empty. */
	async snapshot(data: JournaledState): Promise<void> {
		if (data.unsaved.length > 0) throw new Error('a snapshot must not leave changes out');
		await this.#writeSnapshot(this.#serialise(data, []));
	}

	/**
	 * Rewrites the history without the runs `remove` picks (history-clean.ts
	 * says how a crash at any step leaves it whole). Only when every change is
	 * written, and no write may run meanwhile. A snapshot first, so that the
	 * journal holds no finished run the history lacks; the caller writes the
	 * one after, which records the new size (until then clean.pending maps the
	 * old size to the new one). Returns the runs removed; their log files are
	 * the caller's to remove next (finishClean).
	 */
	async rewriteHistory(data: JournaledState, remove: HistoryFilter, count: (run: FinishedRun) => void): Promise<{removed: RemovedRun[]; keptRuns: number}> {
		const {history} = this.#owned();
		await this.snapshot(data);
		const bytes = await history.bytesWritten();
		await scanHistory(this.files.history, bytes, run => {
			count(run);
		});
		const kept = await writeKeptHistory(this.files, bytes, remove, this.#durability);
		if (kept.removed.length === 0) {
			await unlink(this.files.cleanedHistory).catch(() => undefined);
			return kept;
		}

		try {
			await writeCleanManifest(this.files, {historyBytesBefore: bytes, historyBytesAfter: kept.keptBytes, logs: kept.removed.map(run => run.logFile)}, this.#durability);
		} catch (error) {
			await unlink(this.files.cleanedHistory).catch(() => undefined);
			await unlink(this.files.cleanManifest).catch(() => undefined);
			throw error;
		}

		await commitCleanedHistory(this.files, this.#durability);
		await history.reopen(kept.keptBytes);
		return kept;
	}

	async close(): Promise<void> {
		await this.#journal?.close();
		await this.#history?.close();
		this.#journal = undefined;
		this.#history = undefined;
	}

	#fromLoaded(loaded: LoadedState): JournaledState {
		this.#loaded = loaded;
		return {state: loaded.state, seq: loaded.seq, unsaved: []};
	}

	#owned(): {journal: FileHandle; history: HistoryWriter} {
		if (!this.#journal || !this.#history) throw new Error('the state file is not open for writing');
		return {journal: this.#journal, history: this.#history};
	}

	/** The snapshot of the state once `entries` (the last changes applied) are written, with the history's size by then. */
	#serialise(data: JournaledState, entries: readonly JournalEntry[]): string {
		const runs = entries.flatMap(entry => finishedRunsOf(entry.change));
		const historyBytes = this.#owned().history.bytesOnceSaved + runs.reduce((total, run) => total + Buffer.byteLength(JSON.stringify(run)) + 1, 0);
		return JSON.stringify({...documentFromState(data.state, data.seq), historyBytes} satisfies SnapshotDocument);
	}

	/**
	 * The history first (synced, with its copy), then both snapshot copies,
	 * and only then is the journal cut: until then it still holds every change
	 * since the last snapshot, so a failure anywhere here (a full disk) loses
	 * nothing, and the next start replays it.
	 */
	async #writeSnapshot(text: string): Promise<void> {
		const {journal, history} = this.#owned();
		await history.prepareForSnapshot();
		await this.#snapshot.write(text);
		await journal.truncate(0);
		this.#journalBytes = 0;
	}
}
