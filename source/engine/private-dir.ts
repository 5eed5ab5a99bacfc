import {chmod, lstat, stat} from 'node:fs/promises';
import {UserError} from '../core/user-error.js';

// A directory jobdeck writes its files in (the log dir, the data dir's
// runs/) must be one nobody else can put a link or a file in: another local
// user could otherwise plant `job_7.txt -> ~/.bashrc`, or pre-create a log
// they can read. jobdeck makes its files new and never writes through a link
// (job-starter/), and keeps the directories themselves private here.

/**
 * Makes `path` private (0700) when others may write to it; refuses, in one
 * line that names it, a directory that is not this user's, a shared one
 * (sticky, as /tmp), or, with `noLink`, one that is a symbolic link (the
 * data dir's own subdirectories: jobdeck made them, never as links).
 */
export async function makeDirPrivate(path: string, what: string, options: {noLink?: boolean} = {}): Promise<void> {
	const seen = await (options.noLink ? lstat(path) : stat(path));
	if (seen.isSymbolicLink()) throw new UserError(`the ${what} ${path} is a symbolic link, which jobdeck never makes: remove it (or see who put it there)`);
	if (!seen.isDirectory()) throw new UserError(`the ${what} ${path} is not a directory`);
	const uid = process.getuid?.();
	if (uid !== undefined && seen.uid !== uid) throw new UserError(`the ${what} ${path} belongs to another user (uid ${seen.uid}), who could put links in it: give jobdeck a directory of its own`);
	if ((seen.mode & 0o022) === 0) return;
	const mode = (seen.mode & 0o7777).toString(8).padStart(4, '0');
	if (seen.mode & 0o1000) throw new UserError(`the ${what} ${path} is shared (mode ${mode}): other users can put files in it; give jobdeck a directory of its own`);
	await chmod(path, 0o700);
}
