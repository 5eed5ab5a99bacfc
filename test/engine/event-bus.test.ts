import {describe, expect, test} from 'vitest';
import type {SchedulerEvent} from '../../source/core/scheduler.js';
import {EventBus} from '../../source/engine/event-bus.js';

// An event says what has been saved: the events of a change go out once it is
// on disk, never when it could not be saved, and always in the order given.

function deferred(): {promise: Promise<void>; resolve: () => void; reject: (error: Error) => void} {
	let resolve!: () => void;
	let reject!: (error: Error) => void;
	const promise = new Promise<void>((yes, no) => {
		resolve = yes;
		reject = no;
	});
	promise.catch(() => undefined);
	return {promise, resolve, reject};
}

const paused = (at: number): SchedulerEvent => ({type: 'paused', at});
const settle = async () => new Promise(resolve => {
	setImmediate(resolve);
});

describe('event bus', () => {
	test('publishes a change\'s events only once it is saved, and those given later only after them', async () => {
		const bus = new EventBus(() => 0);
		const seen: number[] = [];
		bus.subscribe(events => seen.push(...events.map(event => event.at)));
		const first = deferred();
		const second = deferred();
		bus.publishWhenSaved(first.promise, [paused(1)]);
		bus.publishWhenSaved(second.promise, [paused(2)]);
		bus.emit(paused(3));
		second.resolve();
		await settle();
		expect(seen).toEqual([]);
		first.resolve();
		await settle();
		expect(seen).toEqual([1, 2, 3]);
	});

	test('drops the events of a change that could not be saved, and goes on with the next', async () => {
		const bus = new EventBus(() => 0);
		const seen: number[] = [];
		bus.subscribe(events => seen.push(...events.map(event => event.at)));
		const refused = deferred();
		bus.publishWhenSaved(refused.promise, [paused(1)]);
		bus.publishWhenSaved(Promise.resolve(), [paused(2)]);
		refused.reject(new Error('ENOSPC'));
		await settle();
		expect(seen).toEqual([2]);
	});

	test('sends frozen copies made when the events were given, not when they went out', async () => {
		const bus = new EventBus(() => 0);
		const seen: SchedulerEvent[] = [];
		bus.subscribe(events => seen.push(...events));
		const saved = deferred();
		const worker = {name: 'w1', slots: 1, env: {}, addedAt: 0, removeWhenIdle: false, drained: false, jobsDone: 0, jobsFailed: 0};
		bus.publishWhenSaved(saved.promise, [{type: 'worker-updated', worker, at: 1}]);
		worker.jobsDone = 5;
		saved.resolve();
		await settle();
		expect(seen).toHaveLength(1);
		expect(seen[0]?.type === 'worker-updated' && seen[0].worker.jobsDone).toBe(0);
		expect(Object.isFrozen(seen[0])).toBe(true);
	});
});
