import {UserError} from '../core/user-error.js';
import {parseDuration} from '../core/validation.js';

// Every request carries its deadline, and the scheduler starts none after it:
// so a client that gives up waiting can say "not carried out" and be right.
//
// The deadline travels as an absolute time, not as a timeout: a scheduler
// stopped with `kill -STOP` reads the request only once it runs again, and a
// timeout counted from then would let it apply what the client gave up on
// long ago. Client and scheduler always read the same clocks (the socket is a
// local one, so they share a kernel), which leaves no skew to allow for; what
// remains is the wall clock being set while a request waits. So the request
// carries its deadline twice: on the wall clock (epoch ms, readable in a
// trace) and on the kernel's monotonic clock, which nobody sets and which is
// the same for every process of the machine. It is refused when either says
// it is late. A wall clock set forward then refuses a request too early (the
// client is told, in one line); one set back cannot make it apply a request too late.
//
// What a deadline cannot cover: a request the scheduler started in time and
// answers after it (a save on a disk that stalls at that moment). The client
// then reports it not carried out, yet it was; the window is the time one
// request takes, not the time a frozen scheduler stays frozen.

export const defaultRequestTimeoutMs = 30_000;

/** How long a client waits for each answer: 30 s, or JOBDECK_REQUEST_TIMEOUT (a duration: 2s, 500ms, 1m). */
export function requestTimeoutMs(text = process.env.JOBDECK_REQUEST_TIMEOUT): number {
	if (text === undefined || text.trim() === '') return defaultRequestTimeoutMs;
	let milliseconds: number;
	try {
		milliseconds = parseDuration(text);
	} catch (error) {
		throw new UserError(`JOBDECK_REQUEST_TIMEOUT: ${(error as Error).message}`);
	}

	if (milliseconds <= 0) throw new UserError(`JOBDECK_REQUEST_TIMEOUT must be longer than 0, not ${JSON.stringify(text)}`);
	return milliseconds;
}

/** Milliseconds on the kernel's monotonic clock (CLOCK_MONOTONIC): the same in every process of this machine. */
export function monotonicNow(): number {
	return Number(process.hrtime.bigint() / 1_000_000n);
}

export type Deadline = {
	/** Wall-clock time, epoch milliseconds. */
	deadline: number;
	/** The same moment on the monotonic clock. */
	monotonicDeadline: number;
};

export function deadlineIn(milliseconds: number): Deadline {
	return {deadline: Date.now() + milliseconds, monotonicDeadline: monotonicNow() + milliseconds};
}

/**
 * How many milliseconds past its deadline a request is now (0 or less: in time),
 * undefined if it carries none; a deadline that is no number is a UserError.
 */
export function lateBy(request: {deadline?: unknown; monotonicDeadline?: unknown}): number | undefined {
	const {deadline, monotonicDeadline} = request;
	if (deadline === undefined && monotonicDeadline === undefined) return undefined;
	const isTime = (value: unknown): value is number | undefined => value === undefined || (typeof value === 'number' && Number.isFinite(value));
	if (!isTime(deadline) || !isTime(monotonicDeadline)) throw new UserError('malformed request: deadline and monotonicDeadline are times in milliseconds');
	return Math.max(deadline === undefined ? -Infinity : Date.now() - deadline, monotonicDeadline === undefined ? -Infinity : monotonicNow() - monotonicDeadline);
}

/** `30 s`, `2 s`, `1.5 s`, `500 ms`. */
export function describeTimeout(milliseconds: number): string {
	return milliseconds < 1000 ? `${milliseconds} ms` : `${Number((milliseconds / 1000).toFixed(1))} s`;
}
