import type {SchedulerEvent, SchedulerEventListener, SubscribeOptions} from '../core/scheduler.js';
import {withQueueCounts} from './queue-counts.js';

// The engine's listeners (the UI, the control server's clients): events are
// handed to them in one batch per turn of the event loop. An event says what
// has been saved: one that reports a change goes out once the change is on
// disk, and never when it could not be saved (a failed save reads the state
// back and says so with `state-loaded`; what is done again is announced then).
// Events go out in the order they were given.

export class EventBus {
	readonly #listeners = new Set<SchedulerEventListener>();
	#pendingEvents: SchedulerEvent[] = [];
	/** Errors met while the scheduler started (an exit file found damaged), before anyone could listen: told to the first subscriber (the scheduler's log). Only errors: the rest is in any snapshot. */
	#beforeFirstSubscriber: SchedulerEvent[] | undefined = [];
	/** Settles once every event given so far is out (or dropped, its change refused). */
	#published: Promise<void> = Promise.resolve();

	/** Called whenever a change given here was saved: a save that succeeds ends a `save` fault. */
	onSaved: (() => void) | undefined;

	constructor(private readonly queueLength: () => number) {}

	subscribe(listener: SchedulerEventListener, options: SubscribeOptions = {}): () => void {
		const subscriber = options.queue === 'counts' ? withQueueCounts(listener, this.queueLength) : listener;
		this.#listeners.add(subscriber);
		const unheard = this.#beforeFirstSubscriber;
		this.#beforeFirstSubscriber = undefined;
		if (unheard && unheard.length > 0) queueMicrotask(() => subscriber(unheard));
		return () => this.#listeners.delete(subscriber);
	}

	/** Publishes an event that reports no change (an error, the stop), after those given before it. */
	emit(event: SchedulerEvent): void {
		this.publishWhenSaved(undefined, [event]);
	}

	/**
	 * Publishes the events of a change once it is saved, after those given before them, or drops them
	 * when it could not be. They go out as they are now: the objects in them are copied, as the state
	 * goes on changing them.
	 */
	publishWhenSaved(saved: Promise<unknown> | undefined, events: readonly SchedulerEvent[]): void {
		if (events.length === 0) return;
		const copies = events.map(event => frozenCopy(event));
		const previous = this.#published;
		if (saved === undefined) {
			this.#published = previous.then(() => {
				this.#push(copies);
			});
			return;
		}

		this.#published = saved.then(
			async () => {
				this.onSaved?.();
				await previous;
				this.#push(copies);
			},
			async () => previous,
		);
	}

	#push(events: readonly SchedulerEvent[]): void {
		const first = this.#pendingEvents.length === 0;
		this.#pendingEvents.push(...events);
		if (!first) return;
		queueMicrotask(() => {
			const events = this.#pendingEvents;
			this.#pendingEvents = [];
			if (this.#beforeFirstSubscriber && this.#beforeFirstSubscriber.length < 1000) this.#beforeFirstSubscriber.push(...events.filter(event => event.type === 'error'));
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
		case 'job-finished':
		case 'run-abandoned': {
			return Object.freeze({...event, run: Object.freeze({...event.run})}) as SchedulerEvent;
		}

		case 'workers-added': {
			return Object.freeze({...event, workers: event.workers.map(worker => Object.freeze({...worker}))});
		}

		case 'worker-updated': {
			return Object.freeze({...event, worker: Object.freeze({...event.worker})});
		}

		case 'fault': {
			return Object.freeze({...event, fault: Object.freeze({...event.fault})});
		}

		default: {
			return Object.freeze({...event});
		}
	}
}
