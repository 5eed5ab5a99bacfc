import {UserError} from '../core/user-error.js';

/** Prints an error as one line on stderr and returns the exit code for it. */
export function reportError(error: unknown): number {
	const message = error instanceof Error ? error.message : String(error);
	const line = error instanceof UserError ? message : `unexpected error: ${message}`;
	process.stderr.write(`jobdeck: ${escapeControls(line.replaceAll('\n', ' '))}\n`);
	return 1;
}

/** A message may quote what the user typed (a script path, a worker name): its control characters must not reach the terminal. */
function escapeControls(text: string): string {
	return text.replaceAll(/[\u0000-\u001F\u007F-\u009F]/g, character => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
