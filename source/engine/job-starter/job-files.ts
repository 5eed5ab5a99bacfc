import {closeSync, constants, fchmodSync, lstatSync, openSync, readlinkSync, renameSync} from 'node:fs';

// The node starter's side of a job's files (starter.pl's move_aside,
// open_log and create_exit_file do the same): a job's log and exit file are
// always new files of ours, never an existing file and never a link someone
// planted. Whatever stands where one must go is renamed aside, never written
// through, and the scheduler is told (the `note` of the spawned reply). Both
// are made here, before the wrapper is forked: when one cannot be made (its
// dir gone, no space, no inodes), nothing runs, and the fault is the
// scheduler's, not the job's.

const newFileFlags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const newExitFileFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A job's log, open: `made` when it is a file made new for it (not /dev/null). */
export type NewLog = {fd: number; made: boolean};

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
export function openNewLog(path: string, notes: string[]): NewLog {
	try {
		return {fd: openSync(path, newFileFlags, 0o600), made: true};
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
	}

	const moved = moveAside(path);
	if (moved !== undefined) {
		notes.push(moved);
		try {
			return {fd: openSync(path, newFileFlags, 0o600), made: true};
		} catch {
			// Something took the path again: the note below says the job runs without a log.
		}
	}

	notes.push(`the log ${path} stands in the way (${moved === undefined ? 'it could not be moved aside' : 'again'}): the job runs without a log`);
	return {fd: openSync('/dev/null', 'w'), made: false};
}

/**
 * Makes a job's exit file, new and empty, 0600 whatever the umask: what
 * stands in the way is moved aside first (`notes` says so). The wrapper
 * syncs it before the job runs and renames the status over it at the end.
 * Throws when it cannot be made: nothing may then run, since nobody could
 * learn how the job ended.
 */
export function createExitFile(path: string, notes: string[]): void {
	const moved = moveAside(path);
	if (moved !== undefined) notes.push(moved);
	const fd = openSync(path, newExitFileFlags, 0o600);
	try {
		fchmodSync(fd, 0o600);
	} finally {
		closeSync(fd);
	}
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
