import {useEffect, useRef, useState} from 'react';
import type {Scheduler} from '../../core/scheduler.js';
import {coversSelection, noQueueRows, type QueueRows} from '../state/queue-rows.js';

export type QueuePageWanted = {
	/** SchedulerModel.queueVersion: a new one means the rows held may be out of date. */
	readonly version: number;
	readonly filter: string;
	/** The selected position in the whole (filtered) queue. */
	readonly selected: number;
	/** Rows the queue pane shows. */
	readonly height: number;
};

type HeldPage = {readonly rows: QueueRows; readonly version: number; readonly filter: string};

/**
 * A filtered page costs the scheduler a walk over the whole queue: while the
 * queue keeps changing, it is asked for again at most this often.
 */
const filteredRefreshMs = 500;

/**
 * The rows of the queue around the selection, asked of the scheduler, which
 * also applies the `/` filter: the screen holds a few pages, never the
 * whole queue. One request at a time; while it is under way the rows held
 * stay on screen.
 */
export function useQueuePage(scheduler: Scheduler, {version, filter, selected, height}: QueuePageWanted): QueueRows {
	const [held, setHeld] = useState<HeldPage>();
	const [, setWakeUps] = useState(0);
	const asking = useRef(false);
	const askedAt = useRef(0);
	const inView = held?.filter === filter && coversSelection(held.rows, selected, height);
	const current = inView && held.version === version;
	useEffect(() => {
		if (current || asking.current) return;
		// Only newer than what is shown, under a filter: not more often than filteredRefreshMs.
		const wait = inView && filter.trim() !== '' ? askedAt.current + filteredRefreshMs - performance.now() : 0;
		if (wait > 0) {
			const timer = setTimeout(() => setWakeUps(count => count + 1), wait);
			return () => clearTimeout(timer);
		}

		asking.current = true;
		askedAt.current = performance.now();
		const rows = Math.max(1, height);
		// Two windows either side of the selection: moving about within them asks for nothing.
		scheduler.queuePage({offset: Math.max(0, selected - 2 * rows), limit: 4 * rows + 1, filter}).then(
			page => {
				asking.current = false;
				setHeld({rows: page, version, filter});
			},
			() => {
				// The scheduler is gone; the next version (it is back) asks again.
				asking.current = false;
			},
		);
		return undefined;
	});
	return held?.rows ?? noQueueRows;
}
