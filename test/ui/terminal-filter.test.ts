import {describe, expect, it} from 'vitest';
import {terminalFilter} from '../../source/logs/terminal-filter.js';

// `logs` on a terminal sanitises a file chunk by chunk: a sequence or a character cut by a chunk's
// end must come out as if the file had come in one piece.

const esc = '\u001B';
const text = `a ${esc}]0;TITLE\u0007 b ${esc}[2J${esc}[6n c \u009B2J ü ✓ ${esc}]2;T2${esc}\\ d\r\te ${esc}`;

describe('terminalFilter', () => {
	it('cleans a whole text as the UI\'s sanitiser does, keeping carriage returns and tabs', () => {
		expect(terminalFilter().push(Buffer.from(text))).toBe('a  b  c  ü ✓  d\r\te ');
	});

	it('gives the same text wherever the chunks are cut', () => {
		const bytes = Buffer.from(text);
		const whole = terminalFilter().push(bytes);
		for (let cut = 0; cut <= bytes.length; cut++) {
			const filter = terminalFilter();
			const split = filter.push(bytes.subarray(0, cut)) + filter.push(bytes.subarray(cut));
			expect(`${cut}: ${split}`).toBe(`${cut}: ${whole}`);
		}
	});

	it('cuts a sequence too long to hold back into harmless parts', () => {
		const filter = terminalFilter();
		const out = filter.push(Buffer.from(`x${esc}]0;${'t'.repeat(10_000)}`)) + filter.push(Buffer.from(`tail\u0007y`));
		expect(out).toBe('xtaily');
		expect(out).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/);
	});
});
