/**
 * A problem with what the user asked for. Its message is one line meant to be
 * shown as is (by the command line, the UI's forms, or a socket client), and
 * whatever raised it has changed nothing.
 */
export class UserError extends Error {
	override name = 'UserError';
}
