import {formatArguments} from './arguments.js';
import type {QueuedJob} from './model.js';

// The `/` filter of the queue pane, applied by the scheduler so that a screen
// never needs the whole queue: the same text the pane shows for a job.

/** The filter as the scheduler compares it: trimmed, lower case; empty lets everything through. */
export function normalizedFilter(filter: string | undefined): string {
	return (filter ?? '').trim().toLowerCase();
}

export function jobMatches(job: QueuedJob, needle: string): boolean {
	return needle === '' || `#${job.id} ${job.needs?.join(' ') ?? ''} ${job.script} ${formatArguments(job.args)}`.toLowerCase().includes(needle);
}
