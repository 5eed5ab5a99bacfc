import {open, readFile, type FileHandle} from 'node:fs/promises';
import {join} from 'node:path';
import {Low} from 'lowdb';
import type {FinishedRun} from '../../core/model.js';
import {formatHistoryLines, readHistoryFrom} from './history-file.js';
import {PrivateJsonFile} from './private-json-file.js';
import {
	applyChange,
	documentFromState,
	emptyState,
	isStateDocument,
	stateFromDocument,
	type SchedulerState,
	type StateChange,
	type StateDocument,
} from './scheduler-state.js';

// The scheduler's state on disk, in three files of the data dir:
//   state.json     a lowdb snapshot of the whole state (workers, queue, running jobs)
//   journal.jsonl  every change since that snapshot, one JSON line each, appended
//   history.jsonl  every finished run, one JSON line each, appended
// A change is acknowledged once its journal line is written. Changes made in
// the same burst share one write (group commit), so saving costs one append
// per burst whatever the size of the queue; the snapshot is rewritten only
// when the journal has grown, and at start and stop.

export type StateFiles = {
	state: string;
	journal: string;
	history: string;
};

export function stateFiles(dataDir: string): StateFiles {
	return {
		state: join(dataDir, 'state.json'),
		journal: join(dataDir, 'journal.jsonl'),
		history: join(dataDir, 'history.jsonl'),
	};
}

/** Refuses to start on damaged state: the message names the file and the way back. */
export class StateFileError extends Error {
	override name = 'StateFileError';
}

type SnapshotDocument = StateDocument & {historyBytes: number};

type JournalEntry = {seq: number; change: StateChange};

type Waiter = {resolve: () => void; reject: (error: Error) => void};

const compactAfterBytes = 8 * 1024 * 1024;

export class StateStore {
	readonly state: SchedulerState;
	readonly files: StateFiles;
	readonly #snapshot: Low<SnapshotDocument>;
	readonly #journal: FileHandle;
	readonly #history: FileHandle;
	#seq: number;
	#journalBytes: number;
	#historyBytes: number;
	#pendingLines: string[] = [];
	#pendingHistory: FinishedRun[] = [];
	#waiters: Waiter[] = [];
	#flushing: Promise<void> | undefined;

	/** Loads the state and takes ownership of its files: only one process may hold a store. */
	static async open(dataDir: string): Promise<StateStore> {
		const files = stateFiles(dataDir);
		const loaded = await loadState(files);
		const journal = await open(files.journal, 'a+', 0o600);
		const history = await open(files.history, 'a+', 0o600);
		const store = new StateStore(files, loaded, journal, history);
		await store.#repairHistory(loaded.finishedAfterSnapshot, loaded.historyBytesAtSnapshot);
		await store.#compact();
		return store;
	}

	private constructor(files: StateFiles, loaded: LoadedState, journal: FileHandle, history: FileHandle) {
		this.files = files;
		this.state = loaded.state;
		this.#snapshot = new Low(new PrivateJsonFile<SnapshotDocument>(files.state), loaded.document);
		this.#journal = journal;
		this.#history = history;
		this.#seq = loaded.seq;
		this.#journalBytes = 0;
		this.#historyBytes = 0;
	}

	/**
	 * Applies the changes to the state at once and resolves when they are on
	 * disk. Changes applied in the same tick, or while a write is under way,
	 * are saved together in one write.
	 */
	async apply(changes: readonly StateChange[]): Promise<void> {
		for (const change of changes) {
			applyChange(this.state, change);
			this.#pendingLines.push(JSON.stringify({seq: ++this.#seq, change} satisfies JournalEntry));
			if (change.type === 'run-finished') this.#pendingHistory.push(change.run);
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
			const history = this.#pendingHistory;
			const waiters = this.#waiters;
			this.#pendingLines = [];
			this.#pendingHistory = [];
			this.#waiters = [];
			try {
				this.#journalBytes = await appendAll(this.#journal, text, this.#journalBytes);
				if (history.length > 0) this.#historyBytes = await appendAll(this.#history, formatHistoryLines(history), this.#historyBytes);
				for (const waiter of waiters) waiter.resolve();
			} catch (error) {
				const failure = new Error(`could not save the state in ${this.files.journal}: ${(error as Error).message}`);
				for (const waiter of waiters) waiter.reject(failure);
			}
		}

		if (this.#journalBytes > compactAfterBytes) await this.#compact().catch(() => undefined);
		this.#flushing = undefined;
		// Changes applied while the snapshot was being written still need their own write.
		if (this.#pendingLines.length > 0) this.#flushing = this.#flush();
	}

	/** Folds the journal into a new snapshot. Must run when no journal line is pending. */
	async #compact(): Promise<void> {
		const document = {...documentFromState(this.state, this.#seq), historyBytes: this.#historyBytes};
		this.#snapshot.data = document;
		await this.#snapshot.write();
		await this.#journal.truncate(0);
		this.#journalBytes = 0;
	}

	/**
	 * A crash between the journal's write and the history's leaves runs that
	 * are finished in the journal but missing from the history: add them, and
	 * drop a history line cut short.
	 */
	async #repairHistory(finishedAfterSnapshot: FinishedRun[], historyBytesAtSnapshot: number): Promise<void> {
		const {size} = await this.#history.stat();
		let validBytes = size;
		if (size > 0) {
			const text = await readFile(this.files.history, 'utf8');
			validBytes = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
			if (validBytes < size) await this.#history.truncate(validBytes);
		}

		this.#historyBytes = validBytes;
		if (finishedAfterSnapshot.length === 0) return;
		const recorded = new Set((await readHistoryFrom(this.files.history, historyBytesAtSnapshot)).map(run => run.runId));
		const missing = finishedAfterSnapshot.filter(run => !recorded.has(run.runId));
		if (missing.length > 0) this.#historyBytes = await appendAll(this.#history, formatHistoryLines(missing), this.#historyBytes);
	}
}

type LoadedState = {
	state: SchedulerState;
	document: SnapshotDocument;
	seq: number;
	historyBytesAtSnapshot: number;
	finishedAfterSnapshot: FinishedRun[];
};

/** Reads the state as saved (snapshot plus journal) without taking ownership of anything. */
export async function loadState(files: StateFiles): Promise<LoadedState> {
	const snapshotFile = new PrivateJsonFile<unknown>(files.state);
	let document: unknown;
	try {
		document = await snapshotFile.read();
	} catch (error) {
		throw new StateFileError(`state file ${files.state} cannot be read (${(error as Error).message}); nothing was changed. `
			+ `The previous good copy is ${snapshotFile.previousPath}: move the damaged file away and copy that one into its place.`);
	}

	if (document !== null && !isStateDocument(document)) {
		throw new StateFileError(`state file ${files.state} is JSON but not a jobdeck state; nothing was changed. Move it away to start empty, or use \`jobdeck load-status\` to import a status.`);
	}

	const snapshot = (document ?? {...documentFromState(emptyState(), 0), historyBytes: 0}) as SnapshotDocument;
	const state = stateFromDocument(snapshot);
	let seq = snapshot.journalSeq;
	const finishedAfterSnapshot: FinishedRun[] = [];
	for (const entry of await readJournal(files.journal)) {
		if (entry.seq <= snapshot.journalSeq) continue;
		applyChange(state, entry.change);
		if (entry.change.type === 'run-finished') finishedAfterSnapshot.push(entry.change.run);
		seq = entry.seq;
	}

	return {state, document: snapshot, seq, historyBytesAtSnapshot: snapshot.historyBytes ?? 0, finishedAfterSnapshot};
}

async function readJournal(path: string): Promise<JournalEntry[]> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}

	const lines = text.split('\n');
	// The last piece has no newline: empty, or a write cut short by a crash, which was never acknowledged.
	lines.pop();
	return lines.map((line, index) => {
		try {
			const entry = JSON.parse(line) as JournalEntry;
			if (typeof entry.seq !== 'number' || typeof entry.change?.type !== 'string') throw new Error('not a journal entry');
			return entry;
		} catch {
			throw new StateFileError(`journal ${path} line ${index + 1} is damaged; nothing was changed. `
				+ 'Keep a copy of the data dir, then delete the damaged lines (and every line after them) to start from the last good change.');
		}
	});
}

async function appendAll(handle: FileHandle, text: string, expectedSize: number): Promise<number> {
	const buffer = Buffer.from(text);
	let written = 0;
	try {
		while (written < buffer.length) {
			const result = await handle.write(buffer, written, buffer.length - written, null);
			written += result.bytesWritten;
		}
	} catch (error) {
		// Never leave half a line behind: the next append would glue onto it.
		await handle.truncate(expectedSize).catch(() => undefined);
		throw error;
	}

	return expectedSize + buffer.length;
}
