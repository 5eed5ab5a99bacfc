import {UserError} from '../core/user-error.js';

/** Prints an error as one line on stderr and returns the exit code for it. */
export function reportError(error: unknown): number {
	const message = error instanceof Error ? error.message : String(error);
	const line = error instanceof UserError ? message : `unexpected error: ${message}`;
	process.stderr.write(`jobdeck: ${line.replaceAll('\n', ' ')}\n`);
	return 1;
}
