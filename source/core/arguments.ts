import {UserError} from './user-error.js';

// The add-job form and `add-job --from-file` take a job's arguments as one line of text. They become
// the job's argv directly, never through a shell, so this is the small part
// of shell syntax people type without thinking: whitespace separates, single
// quotes keep everything literally, double quotes keep spaces and take \" and
// \\, and a backslash outside quotes keeps the next character. Nothing is
// expanded: $HOME and * stay as they are.

export function splitArguments(text: string): string[] {
	const args: string[] = [];
	let current = '';
	// An argument exists once anything was typed for it, even an empty ''.
	let started = false;
	let quote: '"' | '\'' | undefined;
	for (let index = 0; index < text.length; index++) {
		const character = text.charAt(index);
		if (quote === '\'') {
			if (character === '\'') quote = undefined;
			else current += character;
		} else if (quote === '"') {
			if (character === '"') quote = undefined;
			else if (character === '\\' && (text[index + 1] === '"' || text[index + 1] === '\\')) current += text.charAt(++index);
			else current += character;
		} else if (/\s/.test(character)) {
			if (started) args.push(current);
			current = '';
			started = false;
		} else if (character === '\'' || character === '"') {
			quote = character;
			started = true;
		} else if (character === '\\' && index + 1 < text.length) {
			current += text.charAt(++index);
			started = true;
		} else {
			current += character;
			started = true;
		}
	}

	if (quote) throw new UserError(`the arguments have an unclosed ${quote} quote`);
	if (started) args.push(current);
	return args;
}

/** The inverse of splitArguments, for showing a job's argv on one line. */
export function formatArguments(args: readonly string[]): string {
	return args.map(arg => quoteArgument(arg)).join(' ');
}

function quoteArgument(arg: string): string {
	if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
	return `'${arg.replaceAll('\'', '\'\\\'\'')}'`;
}
