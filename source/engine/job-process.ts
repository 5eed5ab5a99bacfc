import {closeSync, constants as fsConstants, fstatSync, openSync, readdirSync, readFileSync, readSync, unlinkSync} from 'node:fs';
import {constants} from 'node:os';

// A job runs detached, in a session and process group of its own, so that it
// outlives the scheduler (the job starter, job-starter/, spawns it), and so
// that `kill -- -$$`, `kill 0` and EXIT traps that kill the script's group
// work as under cli.py (start_new_session=True). Between the scheduler and
// the job sits a wrapper, the job's parent, whose only work is to note that
// the job started and, when it ends, to write its exit status and end time to
// a file: that file tells a restarted scheduler how a job ended while nobody
// was watching. The perl starter's wrapper is a fork of itself (starter.pl);
// the node starter's is the tiny `sh` script below; both do exactly this.
// The wrapper leads a session of its own too (a Ctrl-C meant for the
// scheduler does not reach it); the job is the wrapper's only child, which
// is how signalJobGroup finds the job's group. The wrapper ignores nothing:
// it catches HUP, INT and TERM only to outlive the job and write its status,
// and the job gets them back. The exit file is not the wrapper's to make:
// the starter made it, new (never through a link: whatever stood there was
// moved aside), empty and 0600, before it forked the wrapper, so that a file
// that cannot be made (runs/ gone, full, out of inodes) is the scheduler's
// fault and the job never starts, rather than a job that fails with exit 2.
// The wrapper syncs the file and its directory before the job runs: after a
// power cut, a run without one never ran. The status is written to a
// temporary name, synced, renamed into place and the directory synced,
// before the wrapper exits (and so before the starter reports the end). The
// wrapper also exits with the job's status, which tells the scheduler that
// started it even when the file could not be written (a full disk).
//
// The `sh` wrapper's arguments: the exit file, the umask (the job's, the
// scheduler's: the status file is made under 077), then the paths of setsid,
// sync, date and mv (found once by the node starter: the job's own PATH may
// not have them; an empty one goes without), then the job.
export const wrapperScript = [
	'f=$1; m=$2; n=$3; y=$4; c=$5; v=$6; shift 6; d=${f%/*}',
	'[ -z "$y" ] || "$y" "$f" "$d"',
	'umask "$m"; trap : HUP INT TERM',
	'if [ -n "$n" ]; then "$n" -- "$@"; else "$@"; fi; s=$?',
	'e=$("$c" +%s%3N); case $e in ""|*[!0-9]*) e=$("$c" +%s)000;; esac',
	'umask 077; set -C',
	'{ echo "$s $e" > "$f.tmp" && { [ -z "$y" ] || "$y" "$f.tmp"; } && "$v" -f "$f.tmp" "$f" && { [ -z "$y" ] || "$y" "$d"; }; } || echo "jobdeck-job: cannot write $f" >&2',
	'exit $s',
].join('\n');
export const wrapperName = 'jobdeck-job';
/** The scheduler's umask, as `umask` takes it (read from /proc: process.umask() would briefly set it to 0 to learn it). */
// eslint-disable-next-line @typescript-eslint/no-deprecated -- the fallback where /proc has no Umask line: nothing else reads the umask
export const schedulerUmask = /^Umask:\s*([0-7]+)$/m.exec(readProcSelfStatus())?.[1] ?? process.umask().toString(8);

export type ExitStatus = {
	exitCode: number | null;
	signal: string | null;
	/** When the job ended, as its wrapper wrote it (or, in an exit file from before that, the file's time). */
	endedAt?: number;
	/** The exit file held something else than a status: the run is lost, and this says why. */
	damaged?: string;
};

/**
 * The status the wrapper wrote: an exit code, or (as shells report it) 128+N
 * for a job ended by signal N, and the time the job ended ("STATUS END-MS";
 * files from before hold only the status, and their time is the file's).
 * 'started' means the wrapper began but never wrote a status (it was
 * killed); 'missing' means it never ran at all. Anything else (garbage, a
 * link, something too long) is a lost run whose `damaged` names the file.
 * Never read through a link.
 */
export function readExitFile(path: string): ExitStatus | 'started' | 'missing' {
	let fd: number;
	try {
		fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
	} catch (error) {
		const {code} = error as NodeJS.ErrnoException;
		if (code === 'ELOOP') return damaged(path, 'is a symbolic link, not a file jobdeck wrote');
		return 'missing';
	}

	try {
		const stat = fstatSync(fd);
		if (!stat.isFile()) return damaged(path, 'is not a regular file');
		const buffer = Buffer.alloc(exitFileMaxBytes + 1);
		const length = readSync(fd, buffer, 0, buffer.length, 0);
		const text = buffer.toString('latin1', 0, length);
		if (text.trim() === '') return 'started';
		const written = /^(\d+)(?: (\d+))?\n?$/.exec(text);
		if (!written || length > exitFileMaxBytes) return damaged(path, `holds ${JSON.stringify(text.slice(0, 40))}${length > 40 ? '…' : ''}, not an exit status`);
		return {...exitStatusOf(Number(written[1])), endedAt: written[2] === undefined ? Math.round(stat.mtimeMs) : Number(written[2])};
	} catch (error) {
		return damaged(path, `cannot be read: ${(error as Error).message}`);
	} finally {
		closeSync(fd);
	}
}

/** "STATUS END-MS\n" is ~20 bytes. */
const exitFileMaxBytes = 64;

function damaged(path: string, why: string): ExitStatus {
	return {exitCode: null, signal: null, damaged: `the exit file ${path} ${why}`};
}

/** A status as a shell reports it: an exit code, or 128+N for a job ended by signal N. */
export function exitStatusOf(code: number): ExitStatus {
	if (code > 128 && code <= 128 + 64) return {exitCode: null, signal: signalName(code - 128)};
	return {exitCode: code, signal: null};
}

export function signalName(signalNumber: number): string {
	for (const [name, number] of Object.entries(constants.signals)) {
		if (number === signalNumber) return name;
	}

	return `SIG${signalNumber}`;
}

type ProcessStat = {state: string; parent: number; processGroup: number; session: number; startTime: number};

/** Reads `/proc/<pid>/stat`: the process state letter, its parent, group and session, and its start time in clock ticks since boot. */
export function readProcessStat(pid: number): ProcessStat | undefined {
	let text: string;
	try {
		text = readFileSync(`/proc/${pid}/stat`, 'utf8');
	} catch {
		return undefined;
	}

	// The command name (field 2) may itself contain spaces and parentheses.
	const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
	return {state: fields[0] ?? '?', parent: Number(fields[1]), processGroup: Number(fields[2]), session: Number(fields[3]), startTime: Number(fields[19])};
}

/**
 * True while the process runs. A zombie is dead (on these machines nobody may
 * reap an orphan, so `kill -0` would call it alive), and a pid whose start
 * time differs is somebody else's process that got the same number.
 */
export function isProcessAlive(pid: number, startTime: number | undefined): boolean {
	const stat = readProcessStat(pid);
	if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
	return startTime === undefined || stat.startTime === startTime;
}

/**
 * Finds a job's wrapper by its exit file, for a run the scheduler spawned but
 * could not note the pid of: `sh -c SCRIPT NAME EXIT-FILE …` (the node
 * starter's), or the perl starter's fork, which names itself `NAME EXIT-FILE`.
 */
export function findJobProcess(exitFile: string): number | undefined {
	let entries: string[];
	try {
		entries = readdirSync('/proc');
	} catch {
		return undefined;
	}

	for (const entry of entries) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
			if (argv[3] === wrapperName && argv[4] === exitFile) return Number(entry);
			// What is left of the starter's own argv after the name may follow.
			if (argv[0] === `${wrapperName} ${exitFile}`) return Number(entry);
		} catch {
			// The process ended while the list was read: it is not the wrapper looked for.
		}
	}

	return undefined;
}

/**
 * For a run whose job starter died before it answered for it: removes its
 * exit file and returns true when its wrapper was never forked. The starter
 * makes the exit file, empty, just before it forks the wrapper; a wrapper
 * that ran is found (its name is set before the run is looked for) or wrote
 * a status before it ended. So an empty file and no wrapper is a fork that
 * never came (short of a wrapper SIGKILLed within that grace). Once the file
 * is gone, a restart too finds the run never spawned.
 */
export function removeUnforkedExitFile(exitFile: string): boolean {
	if (readExitFile(exitFile) !== 'started' || findJobProcess(exitFile) !== undefined) return false;
	try {
		unlinkSync(exitFile);
		return true;
	} catch {
		// Left in place, it says the run may have started: it is looked for as after a restart.
		return false;
	}
}

/**
 * Sends a signal to the job's whole process group, found through its
 * wrapper (`pid`): the job is the wrapper's child and leads its own group,
 * which holds whatever children it left in it. The wrapper itself is not
 * signalled: it outlives the job to record its status (SIGKILL included).
 * A wrapper of a jobdeck from before ran the job in its own group: the
 * child's group is then the wrapper's, which gets it as it did then.
 * False when the job is already gone.
 */
export function signalJobGroup(pid: number, signal: NodeJS.Signals): boolean {
	let signalled = false;
	for (const group of new Set(childrenOf(pid).map(child => readProcessStat(child)?.processGroup))) {
		if (group === undefined || group <= 1) continue;
		try {
			process.kill(-group, signal);
			signalled = true;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
		}
	}

	return signalled;
}

/** The children of a single-threaded process: from /proc/PID/task/PID/children where the kernel has it, else by a look at every process's parent. */
export function childrenOf(pid: number): number[] {
	try {
		return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
	} catch {
		// A kernel without that file: the slower look below finds them.
	}

	const children: number[] = [];
	for (const entry of safeReaddir('/proc')) {
		if (/^\d+$/.test(entry) && readProcessStat(Number(entry))?.parent === pid) children.push(Number(entry));
	}

	return children;
}

function safeReaddir(path: string): string[] {
	try {
		return readdirSync(path);
	} catch {
		return [];
	}
}

function readProcSelfStatus(): string {
	try {
		return readFileSync('/proc/self/status', 'utf8');
	} catch {
		return '';
	}
}
