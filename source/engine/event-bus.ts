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

	emit(event: SchedulerEvent): void {
		this.#pendingEvents.push(event);
		if (this.#pendingEvents.length > 1) return;
		queueMicrotask(() => {
			const events = this.#pendingEvents;
			this.#pendingEvents = [];
			for (const listener of this.#listeners) listener(events);
		});
	}
}
