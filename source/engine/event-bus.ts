import type {SchedulerEvent, SchedulerEventListener, SubscribeOptions} from '../core/scheduler.js';
import {withQueueCounts} from './queue-counts.js';

// The engine's listeners (the UI, the control server's clients): events are
// handed to them in one batch per turn of the event loop.

export class EventBus {
	readonly #listeners = new Set<SchedulerEventListener>();
	#pendingEvents: SchedulerEvent[] = [];

	constructor(private readonly queueLength: () => number) {}

	subscribe(listener: SchedulerEventListener, options: SubscribeOptions = {}): () => void {
		const subscriber = options.queue === 'counts' ? withQueueCounts(listener, this.queueLength) : listener;
		this.#listeners.add(subscriber);
		return () => this.#listeners.delete(subscriber);
	}

	/** The event goes out as it is now: the objects in it are copied, as the state goes on changing them. */
	emit(event: SchedulerEvent): void {
		this.#pendingEvents.push(frozenCopy(event));
		if (this.#pendingEvents.length > 1) return;
		queueMicrotask(() => {
			const events = this.#pendingEvents;
			this.#pendingEvents = [];
			for (const listener of this.#listeners) listener(events);
		});
	}
}

/** A copy of the event, frozen, with frozen copies of the jobs, runs and workers it carries (one level deep: the state replaces their arrays, never changes them). */
export function frozenCopy(event: SchedulerEvent): SchedulerEvent {
	switch (event.type) {
		case 'jobs-queued':
		case 'jobs-updated': {
			return Object.freeze({...event, jobs: event.jobs.map(job => Object.freeze({...job}))});
		}

		case 'job-started':
		case 'job-finished': {
			return Object.freeze({...event, run: Object.freeze({...event.run})}) as SchedulerEvent;
		}

		case 'workers-added': {
			return Object.freeze({...event, workers: event.workers.map(worker => Object.freeze({...worker}))});
		}

		case 'worker-updated': {
			return Object.freeze({...event, worker: Object.freeze({...event.worker})});
		}

		default: {
			return Object.freeze({...event});
		}
	}
}
