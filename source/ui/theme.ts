import {createContext, useContext} from 'react';

// Colours by meaning, so that NO_COLOR (https://no-color.org) turns them all
// off in one place. Without colour, state is still readable: failures carry
// ✗ and bold, the focused pane a double border, the selection reverse video.

export type Theme = {
	readonly accent?: string;
	readonly success?: string;
	readonly failure?: string;
	readonly warning?: string;
	readonly busy?: string;
	readonly muted?: string;
};

const coloured: Theme = {
	accent: 'cyan',
	success: 'green',
	failure: 'red',
	warning: 'yellow',
	busy: 'blue',
	muted: 'gray',
};

export function themeFor(env: NodeJS.ProcessEnv): Theme {
	return env['NO_COLOR'] ? {} : coloured;
}

export const ThemeContext = createContext<Theme>(coloured);

export function useTheme(): Theme {
	return useContext(ThemeContext);
}
