import {mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync} from 'node:fs';
import {open} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import type {FinishedRun, QueuedJob, Worker} from '../../source/core/model.js';
import {StateFileError, StateStore, stateFiles} from '../../source/engine/state/state-store.js';

// The state on disk: snapshot + journal + history, with real files. A store
// that is dropped without close() stands for a scheduler killed mid-flight.

let dataDir: string;

beforeEach(() => {
	dataDir = mkdtempSync(join(tmpdir(), 'jobdeck-store-'));
});

afterEach(() => {
	vi.restoreAllMocks();
	rmSync(dataDir, {recursive: true, force: true});
});

const worker = (name: string): Worker => ({name, slots: 1, env: {}, addedAt: 1, removeWhenIdle: false, drained: false, jobsDone: 0, jobsFailed: 0});
const job = (id: number): QueuedJob => ({id, script: '/bin/true', args: [String(id)], env: {}, cwd: '/', queuedAt: 1});
const finished = (id: number, runId: number): FinishedRun => ({
	...job(id), runId, worker: 'w1', startedAt: 2, logFile: `/logs/job_${runId}.txt`, pid: 1, endedAt: 3, exitCode: 0, signal: null, outcome: 'succeeded',
});

describe('StateStore', () => {
	it('rebuilds exactly what was acknowledged after a crash, from snapshot and journal', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'workers-added', workers: [worker('w1')]}, {type: 'jobs-queued', jobs: [job(1), job(2), job(3)]}]);
		await store.apply([{type: 'run-started', run: {...job(1), runId: 1, worker: 'w1', startedAt: 2, logFile: '/logs/job_1.txt'}}]);
		await store.apply([{type: 'run-finished', run: finished(1, 1)}, {type: 'jobs-removed', ids: [3]}]);
		// No close(): as if the process was killed here.

		const reopened = await StateStore.open(dataDir);
		expect([...reopened.state.queue.keys()]).toEqual([2]);
		expect(reopened.state.running.size).toBe(0);
		expect(reopened.state.workers.get('w1')).toMatchObject({jobsDone: 1});
		expect(reopened.state.nextJobId).toBe(4);
		expect(reopened.state.nextRunId).toBe(2);
		expect(readFileSync(stateFiles(dataDir).history, 'utf8').trim().split('\n')).toHaveLength(1);
		await reopened.close();
	});

	it('saves a burst of changes in one journal write (group commit)', async () => {
		const store = await StateStore.open(dataDir);
		const handle = await open(join(dataDir, 'probe'), 'w');
		const write = vi.spyOn(Object.getPrototypeOf(handle) as {write: (...args: unknown[]) => unknown}, 'write');
		await handle.close();
		const saves = [];
		for (let id = 1; id <= 1000; id++) saves.push(store.apply([{type: 'jobs-queued', jobs: [job(id)]}]));
		await Promise.all(saves);
		expect(write).toHaveBeenCalledTimes(1);
		expect(readFileSync(stateFiles(dataDir).journal, 'utf8').trim().split('\n')).toHaveLength(1000);
		await store.close();
		// Closing folds the journal into the snapshot.
		expect(readFileSync(stateFiles(dataDir).journal, 'utf8')).toBe('');
		expect(JSON.parse(readFileSync(stateFiles(dataDir).state, 'utf8')).queue).toHaveLength(1000);
	});

	it('ignores a journal line cut short by a crash (it was never acknowledged)', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		appendFileSync(stateFiles(dataDir).journal, '{"seq":99,"change":{"type":"jobs-que');
		const reopened = await StateStore.open(dataDir);
		expect([...reopened.state.queue.keys()]).toEqual([1]);
		await reopened.close();
	});

	it('adds to the history a finished run that the journal has but the history lost, once', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1), job(2)]}]);
		await store.apply([{type: 'run-started', run: {...job(1), runId: 1, worker: 'w1', startedAt: 2, logFile: 'x'}}]);
		await store.apply([{type: 'run-started', run: {...job(2), runId: 2, worker: 'w1', startedAt: 2, logFile: 'x'}}]);
		await store.apply([{type: 'run-finished', run: finished(1, 1)}]);
		await store.apply([{type: 'run-finished', run: finished(2, 2)}]);
		// A crash between the journal's write and the history's: the last history line is gone, another is cut short.
		const history = stateFiles(dataDir).history;
		const lines = readFileSync(history, 'utf8').split('\n');
		writeFileSync(history, lines[0] + '\n' + lines[1]!.slice(0, 20));
		const reopened = await StateStore.open(dataDir);
		const runIds = readFileSync(history, 'utf8').trim().split('\n').map(line => (JSON.parse(line) as FinishedRun).runId);
		expect(runIds).toEqual([1, 2]);
		await reopened.close();
		const again = await StateStore.open(dataDir);
		await again.close();
		expect(readFileSync(history, 'utf8').trim().split('\n')).toHaveLength(2);
	});

	it('refuses a damaged state file, naming it and the copy to recover from, and changes nothing', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		await store.close();
		const reopened = await StateStore.open(dataDir);
		await reopened.apply([{type: 'jobs-queued', jobs: [job(2)]}]);
		await reopened.close();
		const {state} = stateFiles(dataDir);
		const damaged = readFileSync(state, 'utf8').slice(0, 30);
		writeFileSync(state, damaged);
		const error = await StateStore.open(dataDir).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(StateFileError);
		expect((error as Error).message).toContain(state);
		expect((error as Error).message).toContain(`${state}.prev`);
		expect(readFileSync(state, 'utf8')).toBe(damaged);
		expect(JSON.parse(readFileSync(`${state}.prev`, 'utf8')).queue).toHaveLength(1);
	});

	it('refuses a journal with a damaged line before its end', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		appendFileSync(stateFiles(dataDir).journal, 'garbage\n{"seq":5,"change":{"type":"paused","paused":true}}\n');
		await expect(StateStore.open(dataDir)).rejects.toThrow(/journal .*journal\.jsonl line 2 is damaged/);
	});
});
