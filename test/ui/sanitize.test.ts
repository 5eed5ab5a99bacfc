import {describe, expect, test} from 'vitest';
import {stripTerminalControls, toDisplayLine} from '../../source/logs/sanitize.js';

// Anything that would reach the terminal as a command: nothing of it may survive.
const hostile = [
	'\u001B[2J', // clear screen
	'\u001B[H', // cursor home
	'\u001B[10;20H', // cursor position
	'\u001B[3A', // cursor up
	'\u001B[?1049l', // leave the alternate screen
	'\u001B[?25l', // hide the cursor
	'\u001B]0;owned\u0007', // window title, BEL-terminated
	'\u001B]2;owned\u001B\\', // window title, ST-terminated
	'\u001B]8;;http://evil\u001B\\link\u001B]8;;\u001B\\', // hyperlink
	'\u001B]52;c;aGVsbG8=\u0007', // clipboard write
	'\u001BP+q544e\u001B\\', // DCS
	'\u001Bc', // full reset
	'\u001B7\u001B8', // save / restore cursor
	'\u009B2J', // 8-bit CSI
	'\u009D0;owned\u009C', // 8-bit OSC
	'\u0007\u0008\u000B\u000C\u000E\u007F', // bell, backspace, VT, FF, shift-out, DEL
];

describe('stripTerminalControls', () => {
	test.each(hostile)('removes %j entirely', sequence => {
		const cleaned = stripTerminalControls(`before${sequence}after`);
		expect(cleaned).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/);
		expect(cleaned.startsWith('before')).toBe(true);
		expect(cleaned.endsWith('after')).toBe(true);
		expect(cleaned).not.toContain('owned');
	});

	test('keeps text, colours gone, tabs and newlines kept', () => {
		expect(stripTerminalControls('\u001B[1;31mred\u001B[0m\tcell\nnext')).toBe('red\tcell\nnext');
	});

	test('an unfinished sequence at the end of a chunk leaves nothing behind', () => {
		expect(stripTerminalControls('text\u001B[12')).toBe('text');
		expect(stripTerminalControls('text\u001B]0;half a title')).toBe('text');
	});

	test('keeps non-ASCII text', () => {
		expect(stripTerminalControls('épreuve 測試 ✓')).toBe('épreuve 測試 ✓');
	});
});

describe('toDisplayLine', () => {
	test('a job printing clear-screen, a title and cursor moves shows only its words', () => {
		const line = toDisplayLine('\u001B[2J\u001B]0;title\u0007\u001B[5;5Hhello \u001B[31mworld\u001B[0m\u001B[2A');
		expect(line).toBe('hello world');
	});

	test('a carriage return starts the line over, as a progress bar expects', () => {
		expect(toDisplayLine('progress 10%\rprogress 50%\rprogress 100%')).toBe('progress 100%');
		expect(toDisplayLine('windows line\r')).toBe('windows line');
	});

	test('tabs become spaces up to the next multiple of 8', () => {
		expect(toDisplayLine('a\tb')).toBe('a       b');
		expect(toDisplayLine('abcdefgh\tc')).toBe('abcdefgh        c');
	});
});
