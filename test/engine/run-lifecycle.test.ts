import {describe, expect, test} from 'vitest';
import {IllegalRunTransition, RunLifecycle, type RunPhaseName} from '../../source/engine/run-lifecycle.js';

// A run's phases, as the run supervisor keeps them: every transition from
// every phase it may leave, and one it may not.

const exit = {exitCode: 0, signal: null};
const phase = (lifecycle: RunLifecycle, runId = 1): RunPhaseName | undefined => lifecycle.phaseOf(runId)?.name;

describe('run lifecycle', () => {
	test('a child run: saved, spawned, cancelling, ended unsaved, end saved', () => {
		const lifecycle = new RunLifecycle();
		lifecycle.saved(1);
		expect(phase(lifecycle)).toBe('saved');
		lifecycle.spawned(1);
		expect(phase(lifecycle)).toBe('spawned');
		expect(lifecycle.isPolled(1)).toBe(false);
		expect(lifecycle.cancelling(1)).toBe(true);
		expect(lifecycle.phaseOf(1)).toEqual({name: 'cancelling', child: true});
		expect(lifecycle.isPolled(1)).toBe(false);
		lifecycle.ended(1, exit);
		expect(lifecycle.phaseOf(1)).toEqual({name: 'ended-unsaved', exit});
		// A failed save: the run is finished again from its known end.
		lifecycle.ended(1, exit);
		lifecycle.endSaved(1);
		expect(phase(lifecycle)).toBeUndefined();
	});

	test('a run of an earlier scheduler: adopted, cancelling (polled), ended', () => {
		const lifecycle = new RunLifecycle();
		lifecycle.adopted(1);
		expect(lifecycle.isPolled(1)).toBe(true);
		expect(lifecycle.cancelling(1)).toBe(false);
		expect(lifecycle.isPolled(1)).toBe(true);
		lifecycle.ended(1, exit);
		lifecycle.endSaved(1);
		expect(lifecycle.runsIn('adopted', 'cancelling', 'ended-unsaved')).toEqual([]);
	});

	test('the job starter dies: from saved, spawned and cancelling to starter-lost, then adopted or abandoned', () => {
		const lifecycle = new RunLifecycle();
		lifecycle.saved(1);
		lifecycle.starterLost(1);
		expect(phase(lifecycle, 1)).toBe('starter-lost');
		lifecycle.abandoned(1);
		expect(phase(lifecycle, 1)).toBeUndefined();

		lifecycle.saved(2);
		lifecycle.spawned(2);
		lifecycle.starterLost(2);
		lifecycle.adopted(2);
		expect(phase(lifecycle, 2)).toBe('adopted');

		lifecycle.saved(3);
		lifecycle.spawned(3);
		lifecycle.cancelling(3);
		lifecycle.starterLost(3);
		lifecycle.ended(3, exit);
		expect(phase(lifecycle, 3)).toBe('ended-unsaved');
		expect(lifecycle.runsIn('adopted', 'ended-unsaved')).toEqual([2, 3]);
	});

	test('a run found at start-up with no process and no pid never ran: abandoned; one that ended: ended from no phase', () => {
		const lifecycle = new RunLifecycle();
		lifecycle.abandoned(1);
		lifecycle.ended(2, exit);
		lifecycle.saved(3);
		lifecycle.ended(3, {exitCode: 127, signal: null});
		expect(phase(lifecycle, 2)).toBe('ended-unsaved');
		expect(phase(lifecycle, 3)).toBe('ended-unsaved');
	});

	test.each([
		['spawned from no phase', (lifecycle: RunLifecycle) => lifecycle.spawned(1)],
		['saved twice', (lifecycle: RunLifecycle) => {
			lifecycle.saved(1);
			lifecycle.saved(1);
		}],
		['spawned from adopted', (lifecycle: RunLifecycle) => {
			lifecycle.adopted(1);
			lifecycle.spawned(1);
		}],
		['cancelling from saved (no pid to signal)', (lifecycle: RunLifecycle) => {
			lifecycle.saved(1);
			lifecycle.cancelling(1);
		}],
		['starter-lost from a polled run (the starter never had it)', (lifecycle: RunLifecycle) => {
			lifecycle.adopted(1);
			lifecycle.cancelling(1);
			lifecycle.starterLost(1);
		}],
		['adopted from ended-unsaved (it would be watched twice)', (lifecycle: RunLifecycle) => {
			lifecycle.ended(1, exit);
			lifecycle.adopted(1);
		}],
		['end saved from spawned', (lifecycle: RunLifecycle) => {
			lifecycle.saved(1);
			lifecycle.spawned(1);
			lifecycle.endSaved(1);
		}],
		['abandoned from spawned (it ran)', (lifecycle: RunLifecycle) => {
			lifecycle.saved(1);
			lifecycle.spawned(1);
			lifecycle.abandoned(1);
		}],
	])('refuses %s', (_, walk) => {
		const lifecycle = new RunLifecycle();
		expect(() => {
			walk(lifecycle);
		}).toThrow(IllegalRunTransition);
	});
});
