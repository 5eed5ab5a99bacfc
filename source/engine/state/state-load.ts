import {readFileSync, statSync} from 'node:fs';
import {readFile, stat} from 'node:fs/promises';
import {join} from 'node:path';
import type {FinishedRun} from '../../core/model.js';
import {UserError} from '../../core/user-error.js';
import {
	applyChange,
	documentFromState,
	emptyState,
	finishedRunsOf,
	isStateDocument,
	stateFromDocument,
	type SchedulerState,
	type StateChange,
	type StateDocument,
} from './scheduler-state.js';

// Reading the state files: the snapshot, then the journal's changes since it.

export type StateFiles = {
	state: string;
	journal: string;
	history: string;
	/** The history as of the last snapshot. */
	previousHistory: string;
	/** A clean's new history, until it is renamed over the history (see history-clean.ts). */
	cleanedHistory: string;
	/** What a clean under way commits to: the log files to remove once the history is replaced. */
	cleanManifest: string;
};

export function stateFiles(dataDir: string): StateFiles {
	return {
		state: join(dataDir, 'state.json'),
		journal: join(dataDir, 'journal.jsonl'),
		history: join(dataDir, 'history.jsonl'),
		previousHistory: join(dataDir, 'history.jsonl.prev'),
		cleanedHistory: join(dataDir, 'history.jsonl.clean'),
		cleanManifest: join(dataDir, 'clean.pending'),
	};
}

/** Refuses to start on damaged state: the message names the file and the way back. */
export class StateFileError extends UserError {
	override name = 'StateFileError';
}

export type SnapshotDocument = StateDocument & {historyBytes: number};

export type JournalEntry = {seq: number; change: StateChange};

export type LoadedState = {
	state: SchedulerState;
	seq: number;
	historyBytesAtSnapshot: number;
	finishedAfterSnapshot: FinishedRun[];
};

/** The state files' contents, as read for a load. */
type SavedText = {
	snapshot: string | undefined;
	journal: string;
	/** state.json.prev, read only when the snapshot is missing or does not fit the journal. */
	previousSnapshot: () => string | undefined;
	historyBytes: number;
};

/** Reads the state as saved (snapshot plus journal) without taking ownership of anything. */
export async function loadState(files: StateFiles): Promise<LoadedState> {
	const [snapshot, journal, historyBytes] = await Promise.all([
		readText(files.state),
		readText(files.journal),
		stat(files.history).then(({size}) => size, () => 0),
	]);
	return parseState(files, {snapshot, journal: journal ?? '', historyBytes, previousSnapshot: () => readTextSync(`${files.state}.prev`)});
}

/** The same, synchronously: after a failed write the state is put back at once, before anything else is applied to it. */
export function loadStateSync(files: StateFiles): LoadedState {
	const historyBytes = (() => {
		try {
			return statSync(files.history).size;
		} catch {
			return 0;
		}
	})();
	return parseState(files, {snapshot: readTextSync(files.state), journal: readTextSync(files.journal) ?? '', historyBytes, previousSnapshot: () => readTextSync(`${files.state}.prev`)});
}

function parseState(files: StateFiles, saved: SavedText): LoadedState {
	const previous = `${files.state}.prev`;
	let document: unknown = null;
	try {
		if (saved.snapshot !== undefined) document = JSON.parse(saved.snapshot);
	} catch (error) {
		throw new StateFileError(`state file ${files.state} cannot be read (${(error as Error).message}); nothing was changed. `
			+ `Its last good copy is ${previous}: move the damaged file away and copy that one into its place.`);
	}

	if (document !== null && !isStateDocument(document)) {
		throw new StateFileError(`state file ${files.state} is JSON but not a jobdeck state; nothing was changed. Its last good copy is ${previous}: move the damaged file away and copy that one into its place (or use \`jobdeck load-status\` to import a status).`);
	}

	if (document === null && (saved.previousSnapshot() !== undefined || saved.historyBytes > 0)) {
		// A data dir that has run before lost its snapshot: starting from the journal alone would silently drop what is in neither.
		throw new StateFileError(`state file ${files.state} is missing, but this data dir has been used before; nothing was changed. `
			+ `Its last good copy is ${previous}: copy that one into its place (\`cp ${previous} ${files.state}\`).`);
	}

	const snapshot = (document ?? {...documentFromState(emptyState(), 0), historyBytes: 0}) as SnapshotDocument;
	const state = stateFromDocument(snapshot);
	let seq = snapshot.journalSeq;
	const finishedAfterSnapshot: FinishedRun[] = [];
	for (const entry of parseJournal(files.journal, saved.journal)) {
		if (entry.seq <= snapshot.journalSeq) continue;
		if (entry.seq !== seq + 1) throw journalGap(files, seq, entry.seq, saved);
		applyChange(state, entry.change);
		finishedAfterSnapshot.push(...finishedRunsOf(entry.change));
		seq = entry.seq;
	}

	return {state, seq, historyBytesAtSnapshot: snapshot.historyBytes ?? 0, finishedAfterSnapshot}; // eslint-disable-line @typescript-eslint/no-unnecessary-condition -- a snapshot written before the history was counted has none
}

/** The journal does not go on where the snapshot (or its own previous line) ends: changes between them are lost. */
function journalGap(files: StateFiles, endsAt: number, next: number, saved: SavedText): StateFileError {
	const previous = `${files.state}.prev`;
	const previousEnd = journalSeqOf(saved.previousSnapshot());
	const where = endsAt === 0 ? 'the start' : `change ${endsAt}`;
	const wayBack = previousEnd !== undefined && previousEnd !== endsAt && previousEnd + 1 >= next
		? `Its last good copy ${previous} ends at change ${previousEnd}: move ${files.state} away and copy that one into its place.`
		: `Keep a copy of the data dir; ${previous} is the last good snapshot${previousEnd === undefined ? ' (there is none)' : ` (it ends at change ${previousEnd})`}.`;
	return new StateFileError(`journal ${files.journal} goes on at change ${next} but state file ${files.state} ends at ${where} (the snapshot is missing or older than the journal); nothing was changed. ${wayBack}`);
}

function journalSeqOf(text: string | undefined): number | undefined {
	try {
		const document: unknown = text === undefined ? undefined : JSON.parse(text);
		return isStateDocument(document) ? document.journalSeq : undefined;
	} catch {
		return undefined;
	}
}

function parseJournal(path: string, text: string): JournalEntry[] {
	const lines = text.split('\n');
	// The last piece has no newline: empty, or a write cut short by a crash, which was never acknowledged.
	lines.pop();
	return lines.map((line, index) => {
		try {
			const entry = JSON.parse(line) as JournalEntry;
			if (typeof entry.seq !== 'number' || typeof entry.change?.type !== 'string') throw new Error('not a journal entry'); // eslint-disable-line @typescript-eslint/no-unnecessary-condition -- a line read from disk may be anything
			return entry;
		} catch {
			throw new StateFileError(`journal ${path} line ${index + 1} is damaged; nothing was changed. `
				+ 'Keep a copy of the data dir, then delete the damaged lines (and every line after them) to start from the last good change.');
		}
	});
}

export async function readText(path: string): Promise<string | undefined> {
	try {
		return await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

export function readTextSync(path: string): string | undefined {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}
