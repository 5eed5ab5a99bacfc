import {open, type FileHandle} from 'node:fs/promises';
import type {FinishedRun} from '../../core/model.js';

// Finished runs, one JSON object per line, only ever appended to: a history
// of a million runs costs nothing to add to, and readers take only its tail.

const tailChunkBytes = 64 * 1024;

/** Reads the last `count` runs without reading the whole file. */
export async function readHistoryTail(path: string, count: number): Promise<FinishedRun[]> {
	const handle = await openIfExists(path, 'r');
	if (!handle) return [];
	try {
		const {size} = await handle.stat();
		let end = size;
		let text = '';
		let lines: string[] = [];
		while (end > 0) {
			const start = Math.max(0, end - tailChunkBytes);
			const buffer = Buffer.alloc(end - start);
			await handle.read(buffer, 0, buffer.length, start);
			text = buffer.toString('utf8') + text;
			end = start;
			lines = text.split('\n').filter(line => line.length > 0);
			// The first line may be cut in half while we have not reached the start.
			if (lines.length > count + 1) break;
		}

		if (end > 0) lines.shift();
		// A line still being appended (or cut short by a crash) is not a run yet.
		if (!text.endsWith('\n')) lines.pop();
		return parseHistoryLines(lines.slice(-count), path);
	} finally {
		await handle.close();
	}
}

/** Reads the runs appended after byte `offset` (a position the store noted earlier). */
export async function readHistoryFrom(path: string, offset: number): Promise<FinishedRun[]> {
	const handle = await openIfExists(path, 'r');
	if (!handle) return [];
	try {
		const {size} = await handle.stat();
		if (size <= offset) return [];
		const buffer = Buffer.alloc(size - offset);
		await handle.read(buffer, 0, buffer.length, offset);
		const lines = buffer.toString('utf8').split('\n');
		lines.pop();
		return parseHistoryLines(lines.filter(line => line.length > 0), path);
	} finally {
		await handle.close();
	}
}

export function formatHistoryLines(runs: readonly FinishedRun[]): string {
	let text = '';
	for (const run of runs) text += JSON.stringify(run) + '\n';
	return text;
}

function parseHistoryLines(lines: string[], path: string): FinishedRun[] {
	return lines.map((line, index) => {
		try {
			return JSON.parse(line) as FinishedRun;
		} catch {
			throw new Error(`history file ${path} has a line that is not JSON (line ${index + 1} of those read): ${line.slice(0, 80)}`);
		}
	});
}

export async function openIfExists(path: string, flags: string): Promise<FileHandle | undefined> {
	try {
		return await open(path, flags);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}
