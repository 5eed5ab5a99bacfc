export {commandLine, printable, shortenPath} from '../core/command-line.js';
export {formatDuration} from '../core/format-duration.js';
import type {QueuedJob} from '../core/model.js';
import {formatDuration} from '../core/format-duration.js';

// How counts and list positions are written on screen: short, so that the
// columns stay narrow at 80x24.

/** 12, 9.5k, 120k, 1.2M. */
export function formatCount(count: number): string {
	if (count < 10_000) return String(count);
	if (count < 1_000_000) return `${(count / 1000).toFixed(count < 100_000 ? 1 : 0)}k`;
	return `${(count / 1_000_000).toFixed(1)}M`;
}

/** Cuts or pads to exactly `width` characters, marking a cut with an ellipsis. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
	if (width <= 0) return '';
	// Code points, not graphemes: a cell each for what jobdeck shows (sanitized names, commands, log lines).
	const characters = Array.from(text);
	if (characters.length > width) return `${characters.slice(0, Math.max(0, width - 1)).join('')}…`;
	return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** A pane title's note: where the selection is in the list, and the filter if any. */
export function listNote(selected: number, length: number, filter: string): string {
	// Exact: a rounded position (100.0k of 100k) says nothing.
	const position = length === 0 ? '0' : `${selected + 1}/${length}`;
	return filter ? `${position} /${filter}` : position;
}

/** Which attempt a queued job is at, and how long a retry still waits: "retry 2/4 in 12s". Empty for a first attempt. */
export function attemptNote(job: QueuedJob, now: number): string {
	const attempt = job.attempt ?? 1;
	if (attempt <= 1) return '';
	const note = `retry ${attempt - 1}/${job.retries ?? 0}`;
	return job.notBefore !== undefined && job.notBefore > now ? `${note} in ${formatDuration(job.notBefore - now)}` : note;
}
