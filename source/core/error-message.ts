/** What a rejection or a throw says: its message when it is an Error (all of jobdeck's are), else its text. */
export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
