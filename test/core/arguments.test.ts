import {describe, expect, test} from 'vitest';
import {UserError} from '../../source/core/user-error.js';
import {formatArguments, splitArguments} from '../../source/core/arguments.js';

describe('splitArguments', () => {
	test.each([
		['', []],
		['   ', []],
		['--lr 0.1  --epochs\t3', ['--lr', '0.1', '--epochs', '3']],
		['"two words" three', ['two words', 'three']],
		['\'single $HOME *\' x', ['single $HOME *', 'x']],
		['a"b c"d', ['ab cd']],
		['"say \\"hi\\"" back\\\\slash', ['say "hi"', 'back\\slash']],
		['escaped\\ space', ['escaped space']],
		['\'\' ""', ['', '']],
		['$HOME *.txt ~', ['$HOME', '*.txt', '~']],
		['"it\'s"', ['it\'s']],
		['\'say "x"\'', ['say "x"']],
	])('%j → %j', (text, args) => {
		expect(splitArguments(text)).toEqual(args);
	});

	test('an unclosed quote is a user error', () => {
		expect(() => splitArguments('"open')).toThrow(UserError);
		expect(() => splitArguments('it\'s')).toThrow('the arguments have an unclosed \' quote');
	});
});

describe('formatArguments', () => {
	test.each([
		[['--lr', '0.1'], '--lr 0.1'],
		[['two words'], '\'two words\''],
		[['it\'s'], '\'it\'\\\'\'s\''],
		[[''], '\'\''],
		[['$HOME'], '\'$HOME\''],
	])('%j → %s', (args, text) => {
		expect(formatArguments(args)).toBe(text);
	});

	test.each([[['a b', 'it\'s', '', '"q"', 'x\\y', 'plain']], [['--flag=1', '*', '~/x']]])('splitArguments reads back %j', args => {
		expect(splitArguments(formatArguments(args))).toEqual(args);
	});
});
