import {open} from 'node:fs/promises';
import {toDisplayLine} from './sanitize.js';

/**
 * The last non-empty line of a log, ready to print, read from at most its
 * last `maxBytes`: the running pane shows one for every visible job, each
 * second, however long the logs are. Empty when the log does not exist yet.
 */
export async function readLastLine(path: string, maxBytes = 4096): Promise<string> {
	let handle;
	try {
		handle = await open(path, 'r');
	} catch {
		return '';
	}

	try {
		const {size} = await handle.stat();
		const length = Math.min(size, maxBytes);
		const buffer = Buffer.alloc(length);
		await handle.read(buffer, 0, length, size - length);
		const lines = buffer.toString('utf8').split('\n');
		for (const text of lines.reverse()) {
			const line = toDisplayLine(text).trim();
			if (line.length > 0) return line;
		}

		return '';
	} finally {
		await handle.close();
	}
}
