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

test('a line longer than the reader keeps in chunks (moved into a buffer of its own) is read whole, a character split across chunks included', () => {
	const lines: string[] = [];
	const reader = lineReader(line => lines.push(line));
	// 3 MiB of 'é' (two bytes each) in 4,099-byte chunks: every chunk boundary splits a character.
	const text = 'é'.repeat(3 * 512 * 1024);
	const bytes = Buffer.from(`${text}\nnext\n`);
	for (let at = 0; at < bytes.length; at += 4099) reader(bytes.subarray(at, at + 4099));
	expect(lines.length).toBe(2);
	expect(lines[0] === text).toBe(true);
	expect(lines[1]).toBe('next');
});

test('release() drops the unfinished line and says how big it was; the reader then starts afresh', () => {
	const lines: string[] = [];
	const reader = lineReader(line => lines.push(line));
	const big = Buffer.alloc(2 * 1024 * 1024 + 5, 'a');
	reader(big);
	expect(reader.release()).toBe(big.length);
	expect(reader.release()).toBe(0);
	reader(Buffer.from('fresh\n'));
	expect(lines).toEqual(['fresh']);
});

test('a line over the limit is refused also once it lives in its own buffer', () => {
	let tooLong = 0;
	const reader = lineReader(() => undefined, {maxLineBytes: 3 * 1024 * 1024, onTooLong: () => tooLong++});
	for (let sent = 0; sent < 4; sent++) reader(Buffer.alloc(1024 * 1024, 'b'));
	expect(tooLong).toBe(1);
	expect(reader.release()).toBe(0);
});
