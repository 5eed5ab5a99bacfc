import {readFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
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
};

export function stateFiles(dataDir: string): StateFiles {
	return {
		state: join(dataDir, 'state.json'),
		journal: join(dataDir, 'journal.jsonl'),
		history: join(dataDir, 'history.jsonl'),
		previousHistory: join(dataDir, 'history.jsonl.prev'),
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

/** Reads the state as saved (snapshot plus journal) without taking ownership of anything. */
export async function loadState(files: StateFiles): Promise<LoadedState> {
	return parseState(files, await readText(files.state), await readText(files.journal) ?? '');
}

export function parseState(files: StateFiles, snapshotText: string | undefined, journalText: string): LoadedState {
	let document: unknown = null;
	try {
		if (snapshotText !== undefined) document = JSON.parse(snapshotText);
	} catch (error) {
		throw new StateFileError(`state file ${files.state} cannot be read (${(error as Error).message}); nothing was changed. `
			+ `Its last good copy is ${files.state}.prev: move the damaged file away and copy that one into its place.`);
	}

	if (document !== null && !isStateDocument(document)) {
		throw new StateFileError(`state file ${files.state} is JSON but not a jobdeck state; nothing was changed. Its last good copy is ${files.state}.prev: move the damaged file away and copy that one into its place (or use \`jobdeck load-status\` to import a status).`);
	}

	const snapshot = (document ?? {...documentFromState(emptyState(), 0), historyBytes: 0}) as SnapshotDocument;
	const state = stateFromDocument(snapshot);
	let seq = snapshot.journalSeq;
	const finishedAfterSnapshot: FinishedRun[] = [];
	for (const entry of parseJournal(files.journal, journalText)) {
		if (entry.seq <= snapshot.journalSeq) continue;
		applyChange(state, entry.change);
		finishedAfterSnapshot.push(...finishedRunsOf(entry.change));
		seq = entry.seq;
	}

	return {state, seq, historyBytesAtSnapshot: snapshot.historyBytes ?? 0, finishedAfterSnapshot};
}

function parseJournal(path: string, text: string): JournalEntry[] {
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
