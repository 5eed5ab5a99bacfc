import {copyFile, open, rename, stat, type FileHandle} from 'node:fs/promises';
import {dirname} from 'node:path';
import type {FinishedRun} from '../../core/model.js';
import {appendAll, isHistoryLine, openForAppend, readFirstLine, syncData, syncDirectory, type Durability} from './durable-file.js';
import {formatHistoryLines, readHistoryFrom} from './history-file.js';
import {StateFileError, type StateFiles} from './state-load.js';

/**
 * Appends finished runs to history.jsonl, only once the journal holds their
 * end: a run in the history must be finished in the journal, or a restart
 * would finish it again. Its appends are not synced one by one: until a
 * snapshot, the journal still holds every run, and a start adds back those
 * the history lost. Before a snapshot (which drops them from the journal)
 * the history is synced and its copy history.jsonl.prev brought up to date.
 */
export class HistoryWriter {
	readonly #files: StateFiles;
	readonly #durability: Durability;
	#handle: FileHandle;
	#bytes = 0;
	/** Runs the journal holds but the history not yet (a write failed, or none was made yet). */
	#unsaved: FinishedRun[] = [];
	/** Set when a clean replaced the history: its copy is of another file now, and must be copied whole. */
	#previousReplaced = false;
	/** The last use of the file asked for (an append, a sync before a snapshot, a reopen): the next one waits for it. */
	#inUse: Promise<void> = Promise.resolve();

	static async open(files: StateFiles, durability: Durability): Promise<HistoryWriter> {
		return new HistoryWriter(files, durability, await openForAppend(files.history, durability));
	}

	private constructor(files: StateFiles, durability: Durability, handle: FileHandle) {
		this.#files = files;
		this.#durability = durability;
		this.#handle = handle;
	}

	/** What the history's size will be once every run the journal holds is in it. */
	get bytesOnceSaved(): number {
		return this.#bytes + (this.#unsaved.length === 0 ? 0 : Buffer.byteLength(formatHistoryLines(this.#unsaved)));
	}

	/** Adds runs whose end the journal now holds; they are written at once, or with the next write if that fails. */
	// The append is not waited for: the journal already holds these runs, so
	// the change that ended them is acknowledged without it, and the next
	// journal write goes on meanwhile. Everything else that touches the file
	// waits for it (`#serially`).
	add(runs: readonly FinishedRun[]): void {
		this.#unsaved.push(...runs);
		this.#serially(async () => this.#appendUnsaved()).catch(() => undefined);
	}

	/** Makes the history durable up to `bytesOnceSaved`, and its copy too: the journal may be cut after this. */
	async prepareForSnapshot(): Promise<void> {
		await this.#serially(async () => {
			await this.#appendUnsaved();
			await syncData(this.#handle, this.#durability);
			await this.#updatePreviousHistory();
		});
	}

	async close(): Promise<void> {
		await this.#serially(async () => this.#handle.close());
	}

	/** Writes out every run the journal holds, and returns the history's size: the part a clean may rewrite. */
	async bytesWritten(): Promise<number> {
		return this.#serially(async () => {
			await this.#appendUnsaved();
			return this.#bytes;
		});
	}

	/** After a clean's commit renamed a new history over this one: appends go to the new file from now on. */
	async reopen(bytes: number): Promise<void> {
		await this.#serially(async () => {
			await this.#handle.close();
			this.#handle = await openForAppend(this.#files.history, this.#durability);
			this.#bytes = bytes;
			this.#previousReplaced = true;
		});
	}

	/** One use of the file at a time, in the order asked: an append in flight is never overtaken. */
	async #serially<T>(work: () => Promise<T>): Promise<T> {
		const done = this.#inUse.then(work);
		this.#inUse = done.then(() => undefined, () => undefined);
		return done;
	}

	async #appendUnsaved(): Promise<void> {
		// Runs added while this append is under way stay for the next; until it is done, these count in bytesOnceSaved.
		const count = this.#unsaved.length;
		if (count === 0) return;
		this.#bytes = await appendAll(this.#handle, formatHistoryLines(this.#unsaved.slice(0, count)), this.#bytes);
		this.#unsaved.splice(0, count);
	}

	/** Brings history.jsonl.prev up to the history as it is now: it only ever grows, so only the new bytes are copied. */
	async #updatePreviousHistory(): Promise<void> {
		const {previousHistory} = this.#files;
		const previousBytes = (await stat(previousHistory).catch(() => undefined))?.size;
		if (previousBytes === this.#bytes && !this.#previousReplaced) return;
		if (previousBytes === undefined || previousBytes > this.#bytes || this.#previousReplaced) {
			// None yet, or one from another history: a whole copy, put in place at once.
			const temporary = `${previousHistory}.tmp`;
			await copyFile(this.#files.history, temporary);
			const copy = await open(temporary, 'r+');
			try {
				await syncData(copy, this.#durability);
			} finally {
				await copy.close();
			}

			await rename(temporary, previousHistory);
			await syncDirectory(dirname(previousHistory), this.#durability);
			this.#previousReplaced = false;
			return;
		}

		const added = Buffer.alloc(this.#bytes - previousBytes);
		await this.#handle.read(added, 0, added.length, previousBytes);
		const previous = await open(previousHistory, 'a', 0o600);
		try {
			await appendAll(previous, added.toString('utf8'), previousBytes);
			await syncData(previous, this.#durability);
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
	async repair(finishedAfterSnapshot: FinishedRun[], historyBytesAtSnapshot: number): Promise<void> {
		const {history, previousHistory} = this.#files;
		const {size} = await this.#handle.stat();
		const recovery = `nothing was changed. Its last good copy is ${previousHistory}: move the damaged file away and copy that one into its place; jobdeck adds back the runs saved since.`;
		if (size < historyBytesAtSnapshot) {
			throw new StateFileError(`history file ${history} is cut short (${size} bytes, the state says at least ${historyBytesAtSnapshot}); ${recovery}`);
		}

		// The line just before the snapshot's mark, and the file's first line, are checked too:
		// a history that was replaced or damaged there is found at once.
		const from = Math.max(0, historyBytesAtSnapshot - 64 * 1024);
		const tail = Buffer.alloc(size - from);
		await this.#handle.read(tail, 0, tail.length, from);
		const text = tail.toString('utf8');
		const lines = text.split('\n');
		// A last line without its newline is an append a crash cut short: its runs are in the journal.
		const cutShort = lines.pop() ?? '';
		if (from > 0 && lines.length > 0) lines.shift();
		const head = from > 0 ? await readFirstLine(this.#handle) : undefined;
		for (const [index, line] of [...(head === undefined ? [] : [head]), ...lines].entries()) {
			if (!isHistoryLine(line)) {
				const where = index === 0 && head !== undefined ? 'its first line' : `a line near byte ${from + text.indexOf(line)}`;
				throw new StateFileError(`history file ${history} is damaged (${where} is not a finished run); ${recovery}`);
			}
		}

		const validBytes = size - Buffer.byteLength(cutShort);
		if (validBytes < historyBytesAtSnapshot) {
			throw new StateFileError(`history file ${history} is damaged (it does not end in a full line where the state says it did); ${recovery}`);
		}

		if (validBytes < size) await this.#handle.truncate(validBytes);
		this.#bytes = validBytes;
		if (finishedAfterSnapshot.length === 0) return;
		const recorded = new Set((await readHistoryFrom(history, historyBytesAtSnapshot)).map(run => run.runId));
		// On a full disk they stay in the journal, and the next write adds them.
		this.#unsaved.push(...finishedAfterSnapshot.filter(run => !recorded.has(run.runId)));
		await this.#serially(async () => this.#appendUnsaved()).catch(() => undefined);
	}
}
