import type {SchedulerEvent, SchedulerEventListener} from '../core/scheduler.js';

// For a subscriber that shows the queue a page at a time: the queue's changes
// as its new length, one event per batch, instead of every job queued or
// removed (100,000 of them for one bulk `add-job`).

const changesQueue = new Set<SchedulerEvent['type']>(['jobs-queued', 'jobs-removed', 'jobs-updated', 'job-started', 'state-loaded']);

export function withQueueCounts(listener: SchedulerEventListener, queueLength: () => number): SchedulerEventListener {
	return events => {
		const kept = events.filter(event => event.type !== 'jobs-queued' && event.type !== 'jobs-removed' && event.type !== 'jobs-updated');
		const last = events.findLast(event => changesQueue.has(event.type));
		if (last) kept.push({type: 'queue-changed', length: queueLength(), at: last.at});
		if (kept.length > 0) listener(kept);
	};
}
