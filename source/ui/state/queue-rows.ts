import type {QueuePage, WaitingJob} from '../../core/scheduler.js';

// The queue as the screen holds it: the stretch the scheduler sent for the
// rows on screen (and a little around them), and how long the whole
// (filtered) queue is. The rest stays with the scheduler.

export type QueueRows = QueuePage;

export const noQueueRows: QueueRows = {offset: 0, jobs: [], total: 0};

/** The job at a position of the whole queue, if it is in the stretch held. */
export function queueJobAt(rows: QueueRows, index: number): WaitingJob | undefined {
	return rows.jobs[index - rows.offset];
}

/** Where a job is in the whole queue, if it is in the stretch held. */
export function queueIndexOf(rows: QueueRows, id: number): number | undefined {
	const found = rows.jobs.findIndex(job => job.id === id);
	return found === -1 ? undefined : rows.offset + found;
}

/** Whether the stretch held shows every row a window of `height` rows around `selected` can show. */
export function coversSelection(rows: QueueRows, selected: number, height: number): boolean {
	const from = Math.max(0, selected - height);
	const to = Math.min(rows.total, selected + height);
	return rows.offset <= from && rows.offset + rows.jobs.length >= to;
}

/** Whether the queue pane has room for the Waited column: how long a job waited matters less than why, and a narrow pane gives its room to the reason. */
export function queueShowsWaited(paneWidth: number): boolean {
	return paneWidth >= 80;
}
