// Job output is untrusted: whatever a job prints is shown inside a pane of a
// full-screen program, so nothing in it may reach the terminal as a command.
// Every escape sequence (CSI, OSC, DCS, SOS, PM, APC, in 7-bit and 8-bit
// form, and any other ESC sequence) and every C0/C1 control except tab is
// removed, which leaves only printable text.

const stringTerminator = '(?:\\x07|\\x1b\\\\|\\x9c|$)';
const escapeSequence = new RegExp(
	[
		// CSI (cursor moves, colours, clearing, modes); an unfinished one at the end of the text, too.
		'\\x1b\\[[0-?]*[ -/]*(?:[@-~]|$)',
		'\\x9b[0-?]*[ -/]*(?:[@-~]|$)',
		// OSC (window title, hyperlinks, clipboard), DCS, SOS, PM and APC run to their terminator.
		`\\x1b[\\]PX^_][\\s\\S]*?${stringTerminator}`,
		`[\\x90\\x98\\x9d\\x9e\\x9f][\\s\\S]*?${stringTerminator}`,
		// Any other ESC sequence (charset selection, ESC c full reset, keypad modes) and a bare ESC.
		'\\x1b[ -/]*[0-~]?',
	].join('|'),
	'g',
);
// C0 and C1 controls and DEL, except tab and newline.
const controlCharacter = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
const tabWidth = 8;

/** Removes every terminal control sequence and control character but tab and newline. */
export function stripTerminalControls(text: string): string {
	return text.replace(escapeSequence, '').replace(controlCharacter, '');
}

/**
 * Turns one raw line of job output (without its newline) into text that is
 * safe to print: a carriage return starts the line over the way a terminal
 * would (so a progress bar shows its last state), tabs become spaces so that
 * column arithmetic stays right, and every control goes.
 */
export function toDisplayLine(rawLine: string): string {
	const segments = rawLine.split('\r').filter(segment => segment.length > 0);
	return expandTabs(stripTerminalControls(segments.at(-1) ?? ''));
}

function expandTabs(text: string): string {
	if (!text.includes('\t')) return text;
	let expanded = '';
	for (const character of text) {
		expanded += character === '\t' ? ' '.repeat(tabWidth - (expanded.length % tabWidth)) : character;
	}

	return expanded;
}
