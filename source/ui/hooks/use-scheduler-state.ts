import {useEffect, useState} from 'react';
import type {Scheduler, SchedulerEvent} from '../../core/scheduler.js';
import {applyEvents, modelFromSnapshot, type SchedulerModel} from '../state/scheduler-model.js';
import {errorMessage} from '../../core/error-message.js';

export type SchedulerModelState = {
	readonly model?: SchedulerModel;
	/** Why the first snapshot could not be taken. */
	readonly loadError?: string;
};

/**
 * The scheduler's state as React state: one snapshot, then the events. The
 * engine may emit thousands of events a second; they are collected and
 * applied together at most once every `flushMs`, so that the screen
 * redraws at a bounded rate however busy the scheduler is.
 */
export function useSchedulerState(scheduler: Scheduler, flushMs = 100): SchedulerModelState {
	const [state, setState] = useState<SchedulerModelState>({});
	useEffect(() => {
		let pending: SchedulerEvent[] = [];
		let timer: NodeJS.Timeout | undefined;
		// Events wait while a snapshot is on its way, then apply on top of it.
		let loading = false;
		let generation = 0;
		let disposed = false;
		let lastFlushAt = 0;

		const flush = (): void => {
			timer = undefined;
			if (loading || pending.length === 0 || disposed) return;
			const events = pending;
			pending = [];
			lastFlushAt = performance.now();
			setState(current => (current.model ? {model: applyEvents(current.model, events)} : current));
		};

		// After a quiet spell a change shows at once (another screen's keypress); under load, once per flushMs.
		const scheduleFlush = (): void => {
			timer ??= setTimeout(flush, Math.max(0, lastFlushAt + flushMs - performance.now()));
		};

		const load = (): void => {
			loading = true;
			const loadGeneration = ++generation;
			// The queue comes a page at a time (use-queue-page), its changes as counts.
			scheduler.snapshot({queue: false}).then(
				snapshot => {
					if (disposed || loadGeneration !== generation) return;
					loading = false;
					setState(current => ({model: modelFromSnapshot(snapshot, current.model?.session, current.model)}));
					scheduleFlush();
				},
				(error: unknown) => {
					if (disposed || loadGeneration !== generation) return;
					loading = false;
					setState(current => (current.model ? current : {loadError: errorMessage(error)}));
					// Events that waited for it still count, such as the news that the scheduler went away.
					scheduleFlush();
				},
			);
		};

		const unsubscribe = scheduler.subscribe(events => {
			const reloadedAt = events.findLastIndex(event => event.type === 'state-loaded' || event.type === 'connection-restored');
			if (reloadedAt !== -1) {
				// Everything before a reload is part of the new snapshot or gone.
				pending = events.slice(reloadedAt + 1);
				load();
				return;
			}

			for (const event of events) pending.push(event);
			if (!loading) scheduleFlush();
		}, {queue: 'counts'});
		load();
		return () => {
			disposed = true;
			clearTimeout(timer);
			unsubscribe();
		};
	}, [scheduler, flushMs]);
	return state;
}
