import type {FileHandle} from 'node:fs/promises';
import {terminalFilter} from '../logs/terminal-filter.js';
import {present} from '../core/present.js';

// Copies a file, or what has been appended to it, to stdout for `jobdeck logs`.
// A log may be gigabytes and stdout a pipe into a pager that waits for its
// user, so nothing may pile up in memory: two buffers are used in turn, one
// read into while the other is written, and a buffer is read into again only
// once its write has finished. Node's stream pipe took twice as long and ~40 MB
// more memory than this; writing without waiting for the reader held a whole
// 256 MB log in memory (315 MB of RSS). On a terminal, the output's control
// sequences are made harmless on the way (terminal-filter.ts); into a pipe or
// a file it goes byte for byte.

const chunkBytes = 1024 * 1024;

export type StdoutCopier = {
	/** Copies the file from `offset` to its current end; resolves with the offset after what was copied. */
	copy(handle: FileHandle, offset: number): Promise<number>;
	/** Set once stdout's reader has gone (`jobdeck logs ID | head`, a pager quit early): the rest has nowhere to go, and that is no error. */
	readonly readerGone: boolean;
};

export function stdoutCopier(): StdoutCopier {
	const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)] as const;
	let readerGone = false;
	const filter = process.stdout.isTTY ? terminalFilter() : undefined;
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		readerGone = true;
		if (error.code !== 'EPIPE') throw error;
	});

	const write = async (chunk: Buffer): Promise<void> => new Promise(resolveWritten => {
		const safe = filter ? filter.push(chunk) : chunk;
		process.stdout.write(safe, error => {
			// The error itself comes as stdout's 'error' event, above.
			if (error) readerGone = true;
			resolveWritten();
		});
	});

	return {
		get readerGone() {
			return readerGone;
		},
		async copy(handle, offset) {
			let written = Promise.resolve();
			for (let turn = 0; !readerGone; turn++) {
				const buffer = present(buffers[turn % 2], 'a copy buffer');
				const {bytesRead} = await handle.read(buffer, 0, chunkBytes, offset);
				await written;
				if (bytesRead === 0) break;
				offset += bytesRead;
				written = write(buffer.subarray(0, bytesRead));
			}

			await written;
			return offset;
		},
	};
}
