import type {JobRun} from '../../core/model.js';
import type {Layout} from './layout.js';
import type {ShownTime} from './next-visible-change.js';
import type {PaneItems} from './pane-items.js';
import {queueShowsWaited} from './queue-rows.js';

/** How long the footer shows a message. */
export const messageShownMs = 8000;

type ShownTimesInput = {
	readonly layout: Layout;
	readonly items: PaneItems;
	/** The run the output pane's title shows as running, if any. */
	readonly outputRun?: JobRun;
	/** The header's rate or ETA, if it changes with time. */
	readonly progress?: ShownTime;
	/** When the footer's messages were shown. */
	readonly messagesAt: ReadonlyArray<number | undefined>;
};

/**
 * The times on screen that change on their own: the running jobs' elapsed
 * times, the queue rows' waited times and retry delays, the output pane's
 * title, the header's rate, and the footer's messages going away.
 */
export function* shownTimes({layout, items, outputRun, progress, messagesAt}: ShownTimesInput): Generator<ShownTime> {
	const boxes = layout.columns.flat();
	if (boxes.some(box => box.pane === 'running')) {
		// All of them, not only the rows in the running pane's window: a few extra redraws at most.
		for (const run of items.running) yield {since: run.startedAt};
	}

	const queueBox = boxes.find(box => box.pane === 'queue');
	if (queueBox) {
		const waited = queueShowsWaited(queueBox.width);
		for (const job of items.queue.jobs) {
			if (waited) yield {since: job.queuedAt};
			if (job.notBefore !== undefined) yield {until: job.notBefore};
		}
	}

	if (outputRun) yield {since: outputRun.startedAt};
	if (progress) yield progress;
	for (const at of messagesAt) if (at !== undefined) yield {at: at + messageShownMs};
}
