import {readFileSync} from 'node:fs';
import {UserError} from './user-error.js';

// What the kernel takes at exec (fs/exec.c), so that a job it would refuse
// with "Argument list too long" is refused when it is added, and changes
// nothing, rather than queued, started and failed.
// - One argument or one NAME=VALUE: at most MAX_ARG_STRLEN (32 pages) with its NUL.
// - All of them together, with the program's path and a pointer for each:
//   a quarter of the stack limit (what `getconf ARG_MAX` says), at least
//   128 KiB and at most 6 MiB.
// A job inherits the scheduler's environment, so that is counted too, with
// room for what jobdeck adds (JOB_ID, SLAVE_IP, WORKER, the wrapper's own
// arguments and paths). The command line counts its own environment, which
// is the scheduler's as a rule: the scheduler checks again with its own.

export const longestExecString = 32 * 4096;
const pointerBytes = 8;
/** JOB_ID, SLAVE_IP and WORKER (a worker name is at most 255 bytes), the job starter's wrapper arguments, the log and exit files' paths. */
export const reservedExecBytes = 16 * 1024;

let cachedLimit: number | undefined;

/** The bytes of strings and pointers the kernel takes at exec, from this process's stack limit (its jobs inherit it). */
export function execLimitBytes(): number {
	cachedLimit ??= limitFromStack(readStackLimit());
	return cachedLimit;
}

function readStackLimit(): number | undefined {
	try {
		const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(entry => entry.startsWith('Max stack size'));
		const soft = line?.slice('Max stack size'.length).trim().split(/\s+/)[0];
		return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
	} catch {
		return 8 * 1024 * 1024;
	}
}

export function limitFromStack(stackBytes: number | undefined): number {
	const most = 6 * 1024 * 1024;
	const least = 128 * 1024;
	return Math.max(least, Math.min(most, stackBytes === undefined ? most : Math.floor(stackBytes / 4)));
}

/** The bytes one string takes at exec: itself, its NUL and its pointer. */
export function execBytes(text: string): number {
	return Buffer.byteLength(text) + 1 + pointerBytes;
}

export function envExecBytes(env: Readonly<Record<string, string | undefined>>): number {
	let total = 0;
	for (const [name, value] of Object.entries(env)) {
		if (value !== undefined) total += execBytes(`${name}=${value}`);
	}

	return total;
}

let inheritedBytes: number | undefined;

/** This process's own environment, which its jobs inherit. */
export function inheritedEnvBytes(): number {
	inheritedBytes ??= envExecBytes(process.env);
	return inheritedBytes;
}

/**
 * Refuses a job whose program path, arguments and env (already counted: `envBytes`, from envExecBytes)
 * would not fit at exec with the inherited environment and jobdeck's own variables.
 */
export function checkExecTotal(script: string, args: readonly string[], envBytes: number): void {
	let total = execBytes(script) + envBytes + inheritedEnvBytes() + reservedExecBytes;
	for (const arg of args) total += execBytes(arg);
	const limit = execLimitBytes();
	if (total > limit) {
		throw new UserError(`the job's command line and env come to ${total} bytes at exec, counting the inherited environment (${inheritedEnvBytes()}) and ${reservedExecBytes} for jobdeck's own variables: more than the ${limit} the kernel takes (ARG_MAX)`);
	}
}
