import type {FileHandle} from 'node:fs/promises';
import type {FinishedRun} from '../../core/model.js';


// Low-level helpers for the state files.

export async function readFirstLine(handle: FileHandle): Promise<string> {
	const buffer = Buffer.alloc(64 * 1024);
	const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0);
	const text = buffer.subarray(0, bytesRead).toString('utf8');
	return text.slice(0, Math.max(0, text.indexOf('\n')));
}

export function isHistoryLine(line: string): boolean {
	try {
		const run = JSON.parse(line) as Partial<FinishedRun> | null;
		return typeof run === 'object' && run !== null && typeof run.runId === 'number' && typeof run.id === 'number';
	} catch {
		return false;
	}
}

export async function appendAll(handle: FileHandle, text: string, expectedSize: number): Promise<number> {
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
