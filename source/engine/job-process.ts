import {readdirSync, readFileSync} from 'node:fs';
import {constants} from 'node:os';

// A job runs detached, in a process group of its own, so that it outlives
// the scheduler (the job starter, job-starter/, spawns it). Between the
// scheduler and the job sits a wrapper whose only work is to note that the
// job started and, when it ends, to write its exit status to a file: that
// file tells a restarted scheduler how a job ended while nobody was watching.
// The perl starter's wrapper is a fork of itself (starter.pl); the node
// starter's is the tiny `sh` script below; both do exactly this. The wrapper
// leads its own session, so the job's whole group can be signalled through
// its pid. It ignores nothing: it catches HUP, INT and TERM only to outlive
// the job and write its status, and the job gets them back. The exit file is
// created owner-only whatever the scheduler's umask, which the job then gets
// back unchanged. The wrapper also exits with the job's status, which tells
// the scheduler that started it even when the file could not be written (a
// full disk).
export const wrapperScript = 'f=$1; m=$2; shift 2; umask 077; : > "$f"; umask "$m"; trap : HUP INT TERM; "$@"; s=$?; echo $s > "$f"; exit $s';
export const wrapperName = 'jobdeck-job';
/** The scheduler's umask, as `umask` takes it (read from /proc: process.umask() would briefly set it to 0 to learn it). */
export const schedulerUmask = /^Umask:\s*([0-7]+)$/m.exec(readProcSelfStatus())?.[1] ?? process.umask().toString(8);

export type ExitStatus = {exitCode: number | null; signal: string | null};

/**
 * The status the wrapper wrote: an exit code, or (as shells report it) 128+N
 * for a job ended by signal N. 'started' means the wrapper began but never
 * wrote a status (it was killed); 'missing' means it never ran at all.
 */
export function readExitFile(path: string): ExitStatus | 'started' | 'missing' {
	let text: string;
	try {
		text = readFileSync(path, 'utf8').trim();
	} catch {
		return 'missing';
	}

	if (!/^\d+$/.test(text)) return 'started';
	return exitStatusOf(Number(text));
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

type ProcessStat = {state: string; startTime: number};

/** Reads `/proc/<pid>/stat`: the process state letter and its start time in clock ticks since boot. */
export function readProcessStat(pid: number): ProcessStat | undefined {
	let text: string;
	try {
		text = readFileSync(`/proc/${pid}/stat`, 'utf8');
	} catch {
		return undefined;
	}

	// The command name (field 2) may itself contain spaces and parentheses.
	const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
	return {state: fields[0] ?? '?', startTime: Number(fields[19])};
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
		} catch {}
	}

	return undefined;
}

/** Sends a signal to the job's whole process group; false when it is already gone. */
export function signalJobGroup(pid: number, signal: NodeJS.Signals): boolean {
	try {
		process.kill(-pid, signal);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
		throw error;
	}
}

function readProcSelfStatus(): string {
	try {
		return readFileSync('/proc/self/status', 'utf8');
	} catch {
		return '';
	}
}
