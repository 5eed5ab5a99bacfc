import {describe, expect, test} from 'vitest';
import type {QueuedJob, Worker} from '../../source/core/model.js';
import {nextMatch} from '../../source/engine/state/next-match.js';
import {applyChange, documentFromState, emptyState, stateFromDocument, type SchedulerState} from '../../source/engine/state/scheduler-state.js';

// The queue's order and the pairing of ready jobs with free workers, on the
// state itself: the same functions the engine applies live and a restart replays.

const job = (id: number, extra: Partial<QueuedJob> = {}): QueuedJob => ({id, script: '/bin/true', args: [], env: {}, cwd: '/', queuedAt: 0, ...extra});
const worker = (name: string, tags?: string[]): Worker => ({name, slots: 1, env: {}, addedAt: 0, removeWhenIdle: false, drained: false, jobsDone: 0, jobsFailed: 0, ...(tags && {tags})});

/** Starts every job it can, in the order dispatch would, and returns "job@worker" pairs. */
function dispatchAll(state: SchedulerState): string[] {
	const started: string[] = [];
	for (let match = nextMatch(state); match; match = nextMatch(state)) {
		const runId = state.nextRunId;
		applyChange(state, {type: 'run-started', run: {...match.job, runId, worker: match.worker, startedAt: 0, logFile: ''}});
		started.push(`${match.job.id}@${match.worker}`);
	}

	return started;
}

describe('job queue', () => {
	test('higher priority first, jobs back after a run before new ones, first in first out among equals', () => {
		const state = emptyState();
		applyChange(state, {type: 'jobs-queued', jobs: [job(1), job(2, {priority: -1}), job(3, {priority: 5}), job(4), job(5)]});
		applyChange(state, {type: 'jobs-priority', ids: [1], priority: 0});
		applyChange(state, {type: 'jobs-priority', ids: [4], priority: 5});
		expect([...state.queue.keys()]).toEqual([3, 4, 1, 5, 2]);
		applyChange(state, {type: 'jobs-priority', ids: [4], priority: 0});
		// Back at 0, behind the jobs already there.
		expect([...state.queue.keys()]).toEqual([3, 1, 5, 4, 2]);
		expect(state.queue.get(4)!.priority).toBeUndefined();
		applyChange(state, {type: 'workers-added', workers: [worker('w')]});
		expect(dispatchAll(state)).toEqual(['3@w']);
		applyChange(state, {type: 'run-finished', run: {...job(3), runId: 1, worker: 'w', startedAt: 0, logFile: '', endedAt: 0, exitCode: 1, signal: null, outcome: 'failed', requeued: 'retry'}, requeue: job(3, {attempt: 2})});
		expect([...state.queue.keys()]).toEqual([3, 1, 5, 4, 2]);
	});

	test('a job goes only to a worker with all its tags; the best job any free worker can take goes first', () => {
		const state = emptyState();
		applyChange(state, {type: 'jobs-queued', jobs: [job(1, {needs: ['gpu', 'mem']}), job(2, {needs: ['gpu']}), job(3), job(4, {needs: ['tpu']}), job(5, {priority: 1})]});
		applyChange(state, {type: 'workers-added', workers: [worker('plain'), worker('gpu', ['gpu']), worker('big', ['gpu', 'mem'])]});
		expect(dispatchAll(state)).toEqual(['5@plain', '1@big', '2@gpu']);
		expect([...state.queue.keys()]).toEqual([3, 4]);
	});

	test('a job that needs no tag goes to the free worker with the fewest tags, leaving the others for jobs that need them', () => {
		const state = emptyState();
		applyChange(state, {type: 'workers-added', workers: [worker('big', ['gpu', 'mem']), worker('gpu', ['gpu']), worker('plain')]});
		applyChange(state, {type: 'jobs-queued', jobs: [job(1), job(2, {needs: ['gpu']}), job(3)]});
		expect(dispatchAll(state)).toEqual(['1@plain', '2@gpu', '3@big']);
	});

	test('a job waits for the jobs it runs after, across a rebuild of the state from its document', () => {
		const before = emptyState();
		applyChange(before, {type: 'jobs-queued', jobs: [job(1), job(2, {after: [1], priority: 9})]});
		applyChange(before, {type: 'workers-added', workers: [worker('a'), worker('b')]});
		expect(dispatchAll(before)).toEqual(['1@a']);
		// Job 2, listed first (its priority), waits for job 1, which runs.
		const state = stateFromDocument(documentFromState(before, 0));
		expect(dispatchAll(state)).toEqual([]);
		expect(state.dependencies.waitingFor(2)).toEqual(new Set([1]));
		applyChange(state, {type: 'run-finished', run: {...job(1), runId: 1, worker: 'a', startedAt: 0, logFile: '', endedAt: 0, exitCode: 0, signal: null, outcome: 'succeeded'}});
		expect(dispatchAll(state)).toEqual(['2@a']);
	});

	test('a retry waits for its delay: promoteDue makes it ready when the time comes', () => {
		const state = emptyState();
		applyChange(state, {type: 'jobs-queued', jobs: [job(1, {notBefore: 1000}), job(2)]});
		applyChange(state, {type: 'workers-added', workers: [worker('a'), worker('b')]});
		expect(state.queue.promoteDue(500)).toBe(1000);
		expect(dispatchAll(state)).toEqual(['2@a']);
		expect(state.queue.promoteDue(1000)).toBeUndefined();
		expect(dispatchAll(state)).toEqual(['1@b']);
	});

	test('removing most of a long queue leaves no garbage at the heads', () => {
		const state = emptyState();
		applyChange(state, {type: 'jobs-queued', jobs: Array.from({length: 10_000}, (_unused, index) => job(index + 1))});
		applyChange(state, {type: 'jobs-removed', ids: Array.from({length: 9999}, (_unused, index) => index + 1)});
		applyChange(state, {type: 'workers-added', workers: [worker('a')]});
		expect(dispatchAll(state)).toEqual(['10000@a']);
		expect(state.queue.size).toBe(0);
	});
});
