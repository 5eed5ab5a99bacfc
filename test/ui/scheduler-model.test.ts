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
	return {dataDir: '/d', logDir: '/l', running: true, paused: false, workers: [], queue: [], queueLength: 0, runningJobs: [], finished: [], totals: {done: 0, failed: 0}, ...partial};
}

const at = 5;

describe('applyEvents', () => {
	test('an abandoned run leaves running; a fault shows until it clears, apart from the user\'s pause', () => {
		let model = modelFromSnapshot(snapshot({workers: [worker], runningJobs: [run(1, 1)]}));
		expect(model.faults).toEqual([]);
		const fault = {kind: 'logs' as const, message: 'cannot write logs in /l: no space left on device', since: at};
		model = applyEvents(model, [{type: 'run-abandoned', run: run(1, 1), reason: 'its log could not be made', at}, {type: 'fault', fault, at}]);
		expect(model.running.size).toBe(0);
		expect(model.faults).toEqual([fault]);
		expect(model.paused).toBe(false);
		model = applyEvents(model, [{type: 'fault', fault: {...fault, message: 'cannot write logs in /l: permission denied'}, at}]);
		expect(model.faults.map(each => each.message)).toEqual(['cannot write logs in /l: permission denied']);
		model = applyEvents(model, [{type: 'fault-cleared', kind: 'logs', at}]);
		expect(model.faults).toEqual([]);
		expect(modelFromSnapshot(snapshot({faults: [fault]})).faults).toEqual([fault]);
	});

	test('a job goes from the queue to running to history', () => {
		let model = modelFromSnapshot(snapshot({workers: [worker]}));
		const version = model.queueVersion;
		model = applyEvents(model, [{type: 'queue-changed', length: 2, at}]);
		expect(model.queueLength).toBe(2);
		expect(model.queueVersion).toBeGreaterThan(version);
		model = applyEvents(model, [{type: 'job-started', run: run(1, 1), at}, {type: 'queue-changed', length: 1, at}]);
		expect(model.queueLength).toBe(1);
		expect([...model.running.keys()]).toEqual([1]);
		model = applyEvents(model, [{type: 'job-finished', run: finished(1, 1, 'failed'), at}]);
		expect(model.running.size).toBe(0);
		expect(model.finished.map(done => done.runId)).toEqual([1]);
		expect(model.totals).toEqual({done: 0, failed: 1});
		expect(model.session.finished).toBe(1);
	});

	test('events that the snapshot already holds change nothing when applied again', () => {
		const events: SchedulerEvent[] = [
			{type: 'queue-changed', length: 2, at},
			{type: 'job-started', run: run(1, 1), at},
			{type: 'job-finished', run: finished(1, 1), at},
			{type: 'queue-changed', length: 1, at},
			{type: 'workers-added', workers: [worker], at},
		];
		const model = applyEvents(modelFromSnapshot(snapshot()), events);
		const again = applyEvents(model, events);
		expect(again.queueLength).toBe(1);
		expect(again.finished).toHaveLength(1);
		expect(again.totals).toEqual({done: 1, failed: 0});
		expect(again.workers.size).toBe(1);
	});

	test('the model keeps the queue\'s length, not its jobs: a snapshot without them is enough', () => {
		const model = modelFromSnapshot(snapshot({queueLength: 100_000}));
		expect(model.queueLength).toBe(100_000);
		expect(model).not.toHaveProperty('queue');
		const reloaded = modelFromSnapshot(snapshot({queueLength: 5}), model.session, model);
		expect(reloaded.queueLength).toBe(5);
		// A fresh snapshot means the rows on screen are asked for again.
		expect(reloaded.queueVersion).toBeGreaterThan(model.queueVersion);
	});

	test('a lost connection marks the model stale until a snapshot replaces it', () => {
		const model = applyEvents(modelFromSnapshot(snapshot({workers: [worker]})), [{type: 'connection-lost', message: 'no scheduler answers on /d', at}]);
		expect(model.lost).toEqual({message: 'no scheduler answers on /d', at});
		expect(model.workers.size).toBe(1);
		expect(modelFromSnapshot(snapshot(), model.session, model).lost).toBeUndefined();
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

describe('what the totals count', () => {
	test('a run that will be retried is neither done nor failed; its last attempt that fails is failed once', () => {
		let model = modelFromSnapshot(snapshot({workers: [worker]}));
		model = applyEvents(model, [{type: 'job-finished', run: {...finished(1, 1, 'failed'), requeued: 'retry'}, at}]);
		model = applyEvents(model, [{type: 'job-finished', run: {...finished(1, 2, 'failed'), requeued: 'worker-unreachable'}, at}]);
		expect(model.totals).toEqual({done: 0, failed: 0});
		model = applyEvents(model, [{type: 'job-finished', run: finished(1, 3, 'failed'), at}]);
		model = applyEvents(model, [{type: 'job-finished', run: finished(2, 4, 'dependency-failed'), at}]);
		model = applyEvents(model, [{type: 'job-finished', run: finished(3, 5), at}]);
		expect(model.totals).toEqual({done: 1, failed: 2});
	});
});
