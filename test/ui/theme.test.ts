import {expect, test} from 'vitest';
import {themeFor} from '../../source/ui/theme.js';

test('NO_COLOR turns every colour off; bold, dim and reverse video stay', () => {
	expect(Object.values(themeFor({NO_COLOR: '1'})).filter(Boolean)).toEqual([]);
	expect(themeFor({}).failure).toBe('red');
	// An empty NO_COLOR does not count, as https://no-color.org says.
	expect(themeFor({NO_COLOR: ''}).failure).toBe('red');
});
