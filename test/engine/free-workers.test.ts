import {describe, expect, test} from 'vitest';
import type {Worker} from '../../source/core/model.js';
import {applyChange, emptyState} from '../../source/engine/state/scheduler-state.js';

const worker = (name: string, slots = 1): Worker => ({name, slots, env: {}, addedAt: 0, removeWhenIdle: false, drained: false, jobsDone: 0, jobsFailed: 0});
const run = (runId: number, name: string) => ({id: runId, runId, script: '/bin/true', args: [], env: {}, cwd: '/', queuedAt: 0, worker: name, startedAt: 0, logFile: '/dev/null'});

describe('free workers', () => {
	test('the first free worker in add order; drained, leaving and offline workers get nothing', () => {
		const state = emptyState();
		applyChange(state, {type: 'workers-added', workers: [worker('a'), worker('b', 2), worker('c')]});
		expect(state.freeWorkers.first()).toBe('a');
		applyChange(state, {type: 'run-started', run: run(1, 'a')});
		expect(state.freeWorkers.first()).toBe('b');
		applyChange(state, {type: 'run-started', run: run(2, 'b')});
		expect(state.freeWorkers.first()).toBe('b');
		applyChange(state, {type: 'run-started', run: run(3, 'b')});
		expect(state.freeWorkers.first()).toBe('c');
		applyChange(state, {type: 'worker-flags', name: 'c', drained: true});
		expect(state.freeWorkers.first()).toBeUndefined();
		// `a` comes back ahead of `c`, as it was added first.
		applyChange(state, {type: 'worker-flags', name: 'c', drained: false});
		applyChange(state, {type: 'run-finished', run: {...run(1, 'a'), endedAt: 0, exitCode: 0, signal: null, outcome: 'succeeded'}});
		expect(state.freeWorkers.first()).toBe('a');
		applyChange(state, {type: 'worker-health', name: 'a', unreachableStreak: 3, offline: {since: 0, checks: 0, nextCheckAt: 1}, failedRechecks: 0});
		expect(state.freeWorkers.first()).toBe('c');
		applyChange(state, {type: 'worker-flags', name: 'c', removeWhenIdle: true});
		applyChange(state, {type: 'worker-removed', name: 'c'});
		expect(state.freeWorkers.first()).toBeUndefined();
		applyChange(state, {type: 'worker-health', name: 'a', unreachableStreak: 0, offline: null, failedRechecks: 0});
		expect(state.freeWorkers.first()).toBe('a');
	});
});

describe('free workers by tags', () => {
	test('a worker moves between tag sets when its tags change, and keeps its place in add order', () => {
		const state = emptyState();
		applyChange(state, {type: 'workers-added', workers: [worker('a'), {...worker('g'), tags: ['gpu']}, worker('b')]});
		const freeWith = (tag: string) => [...state.freeWorkers.classes()].filter(workerClass => workerClass.tags.has(tag)).map(workerClass => workerClass.first()?.name).filter(Boolean);
		expect(freeWith('gpu')).toEqual(['g']);
		applyChange(state, {type: 'worker-tags', name: 'b', tags: ['gpu']});
		applyChange(state, {type: 'run-started', run: run(1, 'g')});
		expect(freeWith('gpu')).toEqual(['b']);
		applyChange(state, {type: 'worker-tags', name: 'b', tags: []});
		expect(freeWith('gpu')).toEqual([]);
		expect(state.freeWorkers.first()).toBe('a');
		expect(state.workers.get('b')!.tags).toBeUndefined();
	});
});
