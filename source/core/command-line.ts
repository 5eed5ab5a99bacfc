import {homedir} from 'node:os';
import {isAbsolute, relative} from 'node:path';
import {formatArguments} from './arguments.js';

// How a job is shown to a person, in the UI and in `status`: one line that
// reads like the command they typed. For reading only: nothing ever runs it.

/** A job as a command line: its script, shortened, and its arguments quoted where needed. */
export function commandLine(job: {readonly script: string; readonly args: readonly string[]; readonly cwd: string}): string {
	return printable(job.args.length > 0 ? `${shortenPath(job.script, job.cwd)} ${formatArguments(job.args)}` : shortenPath(job.script, job.cwd));
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
	return text.replace(/[\u0000-\u001F\u007F-\u009F]/g, character => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
