import {expect, test} from 'vitest';
import {lineReader} from '../../source/core/line-reader.js';

function read(chunks: string[], maxLineBytes: number): {lines: string[]; tooLong: number} {
	const lines: string[] = [];
	let tooLong = 0;
	const reader = lineReader(line => lines.push(line), {maxLineBytes, onTooLong: () => tooLong++});
	for (const chunk of chunks) reader(Buffer.from(chunk));
	return {lines, tooLong};
}

test('a line up to the limit is read, whatever the chunks', () => {
	expect(read(['abc', 'de\nfg', 'hij\n'], 5)).toEqual({lines: ['abcde', 'fghij'], tooLong: 0});
});

test('a line over the limit is refused once, also when its newline comes in the chunk that takes it past the limit', () => {
	// Before, only the bytes still waiting for their newline were counted: `abcd` + `ef\n` was read as a line of 6 bytes.
	expect(read(['abcd', 'ef\n', 'more\n'], 5)).toEqual({lines: [], tooLong: 1});
	expect(read(['abcdef\n'], 5)).toEqual({lines: [], tooLong: 1});
	expect(read(['ok\nabcdef', 'gh\n'], 5)).toEqual({lines: ['ok'], tooLong: 1});
});
