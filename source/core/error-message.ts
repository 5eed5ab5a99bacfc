/** What a rejection or a throw says: its message when it is an Error (all of jobdeck's are), else its text. */
export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** A system call's failure in words: `no space left on device` from node's `ENOSPC: no space left on device, open '…'`. */
export function errnoReason(error: unknown): string {
	const message = errorMessage(error);
	return /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
}
