import {StringDecoder} from 'node:string_decoder';
import {stripTerminalControls} from './sanitize.js';

// `jobdeck logs ID` on a terminal: the job's output, which is untrusted, goes
// through the UI's sanitiser on its way, so that a job cannot set the window
// title, clear the screen or make the terminal answer a query. The output
// comes in chunks of a file that may be gigabytes, so nothing waits for a
// whole line: a carriage return is kept (on a terminal it only starts the
// line over, and a progress bar then shows as it would have), and only what
// may be the start of an escape sequence cut by the chunk's end is held back
// for the next chunk. At the end of the file, what is still held back is an
// unfinished sequence, which the sanitiser would remove anyway.

/** Longer than this, a sequence cut by a chunk's end is removed in two parts rather than held back whole. */
const longestHeldBack = 4096;
const sequenceStart = /[\x1b\x90\x98\x9b\x9d\x9e\x9f]/g;
const unfinishedSequence = /^(?:\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x9c]*|[ -/]*)|\x9b[0-?]*[ -/]*|[\x90\x98\x9d\x9e\x9f][^\x07\x9c]*)$/;

export type TerminalFilter = {
	/** The safe text for `chunk` and what was held back before it. */
	push(chunk: Buffer): string;
};

export function terminalFilter(): TerminalFilter {
	const decoder = new StringDecoder('utf8');
	let heldBack = '';
	return {
		push(chunk) {
			let text = heldBack + decoder.write(chunk);
			heldBack = '';
			const start = lastSequenceStart(text);
			if (start !== -1 && text.length - start <= longestHeldBack && unfinishedSequence.test(text.slice(start))) {
				heldBack = text.slice(start);
				text = text.slice(0, start);
			}

			return text.split('\r').map(segment => stripTerminalControls(segment)).join('\r');
		},
	};
}

function lastSequenceStart(text: string): number {
	let last = -1;
	sequenceStart.lastIndex = Math.max(0, text.length - longestHeldBack);
	for (let match = sequenceStart.exec(text); match; match = sequenceStart.exec(text)) last = match.index;
	return last;
}
