import {describe, expect, test} from 'vitest';
import type {FinishedRun, JobRun, QueuedJob, Worker} from '../../source/core/model.js';
import type {SchedulerEvent, SchedulerSnapshot} from '../../source/core/scheduler.js';
import {applyEvents, modelFromSnapshot} from '../../source/ui/state/scheduler-model.js';
import {scrollWindow} from '../../source/ui/state/list-window.js';
import {computeLayout} from '../../source/ui/state/layout.js';

const job = (id: number): QueuedJob => ({id, script: '/bin/true', args: [], env: {}, cwd: '/', queuedAt: 0});
const run = (id: number, runId: number): JobRun => ({...job(id), runId, worker: 'w1', startedAt: 1, logFile: `/logs/job_${runId}.txt`});
const finished = (id: number, runId: number, outcome: FinishedRun['outcome'] = 'succeeded'): FinishedRun => ({
	...run(id, runId),
	endedAt: 2,
	exitCode: outcome === 'succeeded' ? 0 : 1,
	signal: null,
	outcome,
});
const worker: Worker = {name: 'w1', slots: 1, env: {}, addedAt: 0, removeWhenIdle: false, drained: false, jobsDone: 0, jobsFailed: 0};

function snapshot(partial: Partial<SchedulerSnapshot> = {}): SchedulerSnapshot {
	return {dataDir: '/d', logDir: '/l', running: true, paused: false, workers: [], queue: [], runningJobs: [], finished: [], totals: {done: 0, failed: 0}, ...partial};
}

const at = 5;

describe('applyEvents', () => {
	test('a job goes from the queue to running to history', () => {
		let model = modelFromSnapshot(snapshot({workers: [worker]}));
		model = applyEvents(model, [{type: 'jobs-queued', jobs: [job(1), job(2)], at}]);
		expect(model.queue.map(queued => queued.id)).toEqual([1, 2]);
		model = applyEvents(model, [{type: 'job-started', run: run(1, 1), at}]);
		expect(model.queue.map(queued => queued.id)).toEqual([2]);
		expect([...model.running.keys()]).toEqual([1]);
		model = applyEvents(model, [{type: 'job-finished', run: finished(1, 1, 'failed'), at}]);
		expect(model.running.size).toBe(0);
		expect(model.finished.map(done => done.runId)).toEqual([1]);
		expect(model.totals).toEqual({done: 0, failed: 1});
		expect(model.session.finished).toBe(1);
	});

	test('events that the snapshot already holds change nothing when applied again', () => {
		const events: SchedulerEvent[] = [
			{type: 'jobs-queued', jobs: [job(1), job(2)], at},
			{type: 'job-started', run: run(1, 1), at},
			{type: 'job-finished', run: finished(1, 1), at},
			{type: 'workers-added', workers: [worker], at},
		];
		const model = applyEvents(modelFromSnapshot(snapshot()), events);
		const again = applyEvents(model, events);
		expect(again.queue.map(queued => queued.id)).toEqual([2]);
		expect(again.finished).toHaveLength(1);
		expect(again.totals).toEqual({done: 1, failed: 0});
		expect(again.workers.size).toBe(1);
	});

	test('a retried job comes back with its id after it left the queue, within one batch', () => {
		const model = applyEvents(modelFromSnapshot(snapshot({queue: [job(7)]})), [
			{type: 'job-started', run: run(7, 1), at},
			{type: 'job-finished', run: finished(7, 1), at},
			{type: 'jobs-queued', jobs: [job(7)], at},
		]);
		expect(model.queue.map(queued => queued.id)).toEqual([7]);
	});

	test('a batch over a queue of 100,000 jobs is applied in one pass', () => {
		const queue = Array.from({length: 100_000}, (_, index) => job(index + 1));
		const model = modelFromSnapshot(snapshot({queue}));
		const started = performance.now();
		const events: SchedulerEvent[] = Array.from({length: 1000}, (_, index) => ({type: 'job-started', run: run(index + 1, index + 1), at}));
		const next = applyEvents(model, [...events, {type: 'jobs-queued', jobs: [job(200_000)], at}]);
		expect(performance.now() - started).toBeLessThan(200);
		expect(next.queue).toHaveLength(99_001);
		expect(next.queue[0]!.id).toBe(1001);
		expect(next.running.size).toBe(1000);
	});

	test('workers, pause and cancel requests', () => {
		let model = modelFromSnapshot(snapshot({workers: [worker], runningJobs: [run(1, 1)]}));
		model = applyEvents(model, [
			{type: 'worker-updated', worker: {...worker, drained: true}, at},
			{type: 'paused', at},
			{type: 'cancel-requested', runId: 1, id: 1, at},
		]);
		expect(model.workers.get('w1')!.drained).toBe(true);
		expect(model.paused).toBe(true);
		expect(model.running.get(1)!.cancelRequestedAt).toBe(at);
		model = applyEvents(model, [{type: 'worker-removed', name: 'w1', at}, {type: 'resumed', at}]);
		expect(model.workers.size).toBe(0);
		expect(model.paused).toBe(false);
	});
});

describe('scrollWindow', () => {
	test('moves only as far as needed to show the cursor', () => {
		expect(scrollWindow(0, 0, 100, 10)).toEqual({from: 0, to: 10});
		expect(scrollWindow(0, 9, 100, 10)).toEqual({from: 0, to: 10});
		expect(scrollWindow(0, 10, 100, 10)).toEqual({from: 1, to: 11});
		expect(scrollWindow(50, 45, 100, 10)).toEqual({from: 45, to: 55});
		expect(scrollWindow(95, 99, 100, 10)).toEqual({from: 90, to: 100});
		expect(scrollWindow(80, 3, 5, 10)).toEqual({from: 0, to: 5});
	});
});

describe('computeLayout', () => {
	test.each([
		[80, 24, 2],
		[200, 50, 3],
		[50, 20, 1],
	])('%ix%i has %i columns that fill the width and the height, one row short of the terminal', (columns, rows, count) => {
		const layout = computeLayout(columns, rows, 'queue', 'queue');
		expect(layout.columns).toHaveLength(count);
		expect(layout.height).toBe(rows - 1);
		expect(layout.columns.reduce((sum, column) => sum + column[0]!.width, 0)).toBe(columns);
		for (const column of layout.columns) {
			expect(column.reduce((sum, box) => sum + box.height, 0)).toBe(layout.bodyHeight);
		}
	});
});
