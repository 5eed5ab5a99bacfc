import {homedir} from 'node:os';
import {relative, isAbsolute} from 'node:path';

// How times, counts and paths are written on screen: short, so that the
// columns stay narrow at 80x24.

/** 9s, 3m04s, 2h05m, 3d04h. */
export function formatDuration(milliseconds: number): string {
	const seconds = Math.max(0, Math.floor(milliseconds / 1000));
	if (seconds < 60) return `${seconds}s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${minutes}m${pad(seconds % 60)}s`;
	const hours = Math.floor(minutes / 60);
	if (hours < 24) return `${hours}h${pad(minutes % 60)}m`;
	return `${Math.floor(hours / 24)}d${pad(hours % 24)}h`;
}

/** 12, 9.5k, 120k, 1.2M. */
export function formatCount(count: number): string {
	if (count < 10_000) return String(count);
	if (count < 1_000_000) return `${(count / 1000).toFixed(count < 100_000 ? 1 : 0)}k`;
	return `${(count / 1_000_000).toFixed(1)}M`;
}

/** A script as the user would type it: relative to the job's directory when inside it, ~ for the home directory. */
export function shortenPath(path: string, cwd: string): string {
	const inside = relative(cwd, path);
	if (inside && !inside.startsWith('..') && !isAbsolute(inside)) return inside.includes('/') ? inside : `./${inside}`;
	const home = homedir();
	return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/** Shows control characters (a newline in an argument, say) as escapes, so one value stays on one line. */
export function printable(text: string): string {
	// eslint-disable-next-line no-control-regex
	return text.replace(/[\u0000-\u001F\u007F-\u009F]/g, character => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Cuts or pads to exactly `width` characters, marking a cut with an ellipsis. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
	if (width <= 0) return '';
	const characters = [...text];
	if (characters.length > width) return `${characters.slice(0, Math.max(0, width - 1)).join('')}…`;
	return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

function pad(value: number): string {
	return String(value).padStart(2, '0');
}
