import {copyFileSync, fstatSync, ftruncateSync, renameSync, statSync} from 'node:fs';

// scheduler.log, the output of a scheduler that went on in the background,
// is bounded: past a size it is copied to scheduler.log.1 (the one before
// that becomes scheduler.log.2) and cut to nothing. Copied and cut, not
// renamed: the scheduler's stdout and stderr are that file, opened for
// appending, so they go on at its new end, and even what Node itself writes
// there (a crash's stack) lands in scheduler.log.

export const defaultSchedulerLogMaxBytes = 10 * 1024 * 1024;

/** Returns a function to call after writing to stdout: it rotates `path` once it has grown past `maxBytes`. */
export function outputRotation(path: string, maxBytes: number): (written: number) => void {
	let sinceCheck = 0;
	const checkEvery = Math.max(1, Math.floor(maxBytes / 16));
	return written => {
		sinceCheck += written;
		if (sinceCheck < checkEvery) return;
		sinceCheck = 0;
		try {
			const output = fstatSync(1);
			const file = statSync(path);
			// Only while stdout is that very file (not a terminal, not a file the user chose).
			if (output.ino !== file.ino || output.dev !== file.dev || output.size <= maxBytes) return;
			try {
				renameSync(`${path}.1`, `${path}.2`);
			} catch {
				// No .1 yet: nothing to keep.
			}

			copyFileSync(path, `${path}.1`);
			ftruncateSync(1, 0);
		} catch {
			// A log that cannot be rotated (a full disk) is no reason to stop scheduling: it is tried again later.
		}
	};
}

export function schedulerLogMaxBytes(): number {
	const text = process.env.JOBDECK_SCHEDULER_LOG_MAX_BYTES;
	return text !== undefined && /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : defaultSchedulerLogMaxBytes;
}
