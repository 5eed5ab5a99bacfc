import {statSync, unlinkSync} from 'node:fs';
import {open, readFile, rename, stat, unlink} from 'node:fs/promises';
import {basename, dirname} from 'node:path';
import type {FinishedRun, RunOutcome} from '../../core/model.js';
import {appendAll, syncData, syncDirectory, type Durability} from './durable-file.js';
import type {StateFiles} from './state-load.js';

// Rewriting history.jsonl without some of its runs, so that a crash at any
// moment leaves either the whole old history or the whole new one:
//   1. the kept lines go to history.jsonl.clean, which is synced;
//   2. clean.pending names the sizes before and after and every log file to
//      remove; it is synced, and so is the directory;
//   3. history.jsonl.clean is renamed over history.jsonl and the directory
//      synced: this rename is the commit;
//   4. the log files are removed (idempotent), then clean.pending.
// A start that finds history.jsonl.clean did not get to the rename: it drops
// it (and clean.pending), and the clean never happened. A start that finds
// clean.pending alone finishes step 4.

/** How a removed run is reported, and its log file found. */
export type RemovedRun = {runId: number; id: number; outcome: RunOutcome; logFile: string};

/** Decides, run by run in the history's order, which runs go. */
export type HistoryFilter = (run: FinishedRun) => boolean;

const chunkBytes = 1024 * 1024;
/** Log files removed between two turns of the event loop. */
const logBatch = 500;

/** Calls `each` with every run in the first `bytes` bytes of the history, streaming: a huge history is never held whole. */
export async function scanHistory(path: string, bytes: number, each: (run: FinishedRun, line: string, index: number) => void | Promise<void>): Promise<void> {
	const handle = await open(path, 'r');
	try {
		const buffer = Buffer.alloc(chunkBytes);
		let position = 0;
		let rest = '';
		let index = 0;
		while (position < bytes) {
			const {bytesRead} = await handle.read(buffer, 0, Math.min(chunkBytes, bytes - position), position);
			if (bytesRead === 0) break;
			position += bytesRead;
			const lines = (rest + buffer.toString('utf8', 0, bytesRead)).split('\n');
			// split gives one piece at least: the last, unfinished line.
			rest = lines.pop() ?? '';
			for (const line of lines) {
				if (line.length === 0) continue;
				await each(JSON.parse(line) as FinishedRun, line, index++);
			}
		}
	} finally {
		await handle.close();
	}
}

/** Writes the runs `remove` lets stay into history.jsonl.clean, synced. Returns what went and the new size. */
export async function writeKeptHistory(files: StateFiles, bytes: number, remove: HistoryFilter, durability: Durability): Promise<{removed: RemovedRun[]; keptRuns: number; keptBytes: number}> {
	const output = await open(files.cleanedHistory, 'w', 0o600);
	const removed: RemovedRun[] = [];
	let keptRuns = 0;
	let keptBytes = 0;
	let pending = '';
	try {
		await scanHistory(files.history, bytes, async (run, line) => {
			if (remove(run)) {
				removed.push({runId: run.runId, id: run.id, outcome: run.outcome, logFile: run.logFile});
				return;
			}

			keptRuns++;
			pending += line + '\n';
			if (pending.length > chunkBytes) {
				keptBytes = await appendAll(output, pending, keptBytes);
				pending = '';
			}
		});
		keptBytes = await appendAll(output, pending, keptBytes);
		await syncData(output, durability);
	} catch (error) {
		await output.close();
		await unlink(files.cleanedHistory).catch(() => undefined);
		throw error;
	} finally {
		await output.close().catch(() => undefined);
	}

	return {removed, keptRuns, keptBytes};
}

export type CleanManifest = {historyBytesBefore: number; historyBytesAfter: number; logs: string[]};

/** Step 2: the manifest that says what the rename commits to. */
export async function writeCleanManifest(files: StateFiles, manifest: CleanManifest, durability: Durability): Promise<void> {
	const handle = await open(files.cleanManifest, 'w', 0o600);
	try {
		const head = JSON.stringify({historyBytesBefore: manifest.historyBytesBefore, historyBytesAfter: manifest.historyBytesAfter}) + '\n';
		await appendAll(handle, head + manifest.logs.map(log => log + '\n').join(''), 0);
		await syncData(handle, durability);
	} finally {
		await handle.close();
	}

	await syncDirectory(dirname(files.cleanManifest), durability);
}

/** Step 3, the commit. */
export async function commitCleanedHistory(files: StateFiles, durability: Durability): Promise<void> {
	await rename(files.cleanedHistory, files.history);
	await syncDirectory(dirname(files.history), durability);
}

/** Step 4: removes the log files (those already gone are fine) and then the manifest. Returns how many it removed and their size. */
export async function finishClean(files: StateFiles, logs: readonly string[], removeManifest = true): Promise<{removedLogs: number; removedLogBytes: number}> {
	let removedLogs = 0;
	let removedLogBytes = 0;
	// Synchronous calls, a batch at a time: the thread pool's stat+unlink pairs cost ten times as much on a busy machine.
	for (let start = 0; start < logs.length; start += logBatch) {
		for (const log of logs.slice(start, start + logBatch)) {
			// Only jobdeck's own log files: a record that names anything else is not ours to remove.
			if (!/^job_\d+\.txt$/.test(basename(log))) continue;
			const size = statSync(log, {throwIfNoEntry: false})?.size;
			if (size === undefined) continue;
			try {
				unlinkSync(log);
				removedLogs++;
				removedLogBytes += size;
			} catch {
				// Gone already (removed by hand, or by a clean a crash cut short): nothing to remove.
			}
		}

		await new Promise(resolve => {
			setImmediate(resolve);
		});
	}

	if (removeManifest) await unlink(files.cleanManifest).catch(() => undefined);
	return {removedLogs, removedLogBytes};
}

/**
 * At start, before the history is checked: a clean cut short by a crash is
 * undone (no rename yet) or finished (renamed). Returns the history's size
 * the snapshot means, which a committed clean changed.
 */
export async function recoverClean(files: StateFiles, historyBytesAtSnapshot: number): Promise<number> {
	const cleaned = await stat(files.cleanedHistory).catch(() => undefined);
	const manifestText = await readFile(files.cleanManifest, 'utf8').catch(() => undefined);
	if (cleaned !== undefined) {
		// Not committed: the old history stands, whole.
		await unlink(files.cleanedHistory);
		await unlink(files.cleanManifest).catch(() => undefined);
		return historyBytesAtSnapshot;
	}

	if (manifestText === undefined) return historyBytesAtSnapshot;
	const lines = manifestText.split('\n');
	let head: {historyBytesBefore?: unknown; historyBytesAfter?: unknown} = {};
	try {
		head = JSON.parse(lines[0] ?? '') as typeof head;
	} catch {
		// Not a clean's record: the head stays empty, and the start says so.
	}

	// A manifest cut short was written before the commit, whose rename then never happened: nothing to finish.
	const complete = manifestText.endsWith('\n') && typeof head.historyBytesBefore === 'number' && typeof head.historyBytesAfter === 'number';
	if (!complete) {
		await unlink(files.cleanManifest);
		return historyBytesAtSnapshot;
	}

	await finishClean(files, lines.slice(1).filter(line => line.length > 0));
	return historyBytesAtSnapshot === head.historyBytesBefore ? head.historyBytesAfter as number : historyBytesAtSnapshot;
}
