import {constants, lstatSync, openSync, readlinkSync, renameSync} from 'node:fs';

// The node starter's side of a job's files (starter.pl's move_aside and
// open_log do the same): a job's log and exit file are always new files of
// ours, never an existing file and never a link someone planted. Whatever
// stands where one must go is renamed aside, never written through, and the
// scheduler is told (the `note` of the spawned reply).

const newFileFlags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Renames what stands at `path` aside; the sentence that says so, or undefined when the way was clear or could not be cleared. */
export function moveAside(path: string): string | undefined {
	let seen;
	try {
		seen = lstatSync(path);
	} catch {
		return undefined;
	}

	const what = seen.isSymbolicLink()
		? `a symbolic link to ${readLinkOrQuestionMark(path)}`
		: `a file of uid ${seen.uid}, mode ${(seen.mode & 0o7777).toString(8).padStart(4, '0')},`;
	let aside = `${path}.in-the-way`;
	for (let n = 1; exists(aside); n++) aside = `${path}.in-the-way.${n}`;
	try {
		renameSync(path, aside);
	} catch {
		return undefined;
	}

	return `${what} stood at ${path}: moved aside to ${aside}`;
}

/**
 * Opens a new log (0600, whatever the umask allows less). What stands in the
 * way is moved aside; when even that fails, the job runs without a log
 * (/dev/null), and `notes` says why. Throws when the log cannot be made at
 * all (its directory is gone, the disk is full).
 */
export function openNewLog(path: string, notes: string[]): number {
	try {
		return openSync(path, newFileFlags, 0o600);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
	}

	const moved = moveAside(path);
	if (moved !== undefined) {
		notes.push(moved);
		try {
			return openSync(path, newFileFlags, 0o600);
		} catch {
			// Something took the path again: the note below says the job runs without a log.
		}
	}

	notes.push(`the log ${path} stands in the way (${moved === undefined ? 'it could not be moved aside' : 'again'}): the job runs without a log`);
	return openSync('/dev/null', 'w');
}

function exists(path: string): boolean {
	try {
		lstatSync(path);
		return true;
	} catch {
		return false;
	}
}

function readLinkOrQuestionMark(path: string): string {
	try {
		return readlinkSync(path);
	} catch {
		return '?';
	}
}
