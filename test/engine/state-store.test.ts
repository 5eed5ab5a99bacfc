import {appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
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
		expect((JSON.parse(readFileSync(stateFiles(dataDir).state, 'utf8')) as {queue: unknown[]}).queue).toHaveLength(1000);
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
		writeFileSync(history, `${lines[0]!}\n${lines[1]!.slice(0, 20)}`);
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
		// The copy is of the last snapshot: recovering from it loses nothing.
		copyFileSync(`${state}.prev`, state);
		const recovered = await StateStore.open(dataDir);
		expect([...recovered.state.queue.keys()]).toEqual([1, 2]);
		await recovered.close();
	});

	describe('a damaged history', () => {
		/** Runs 1 and 2 are in the snapshot's part of the history, run 3 only in the journal's. */
		async function historyOfThreeRuns(): Promise<string[]> {
			const store = await StateStore.open(dataDir);
			await store.apply([{type: 'jobs-queued', jobs: [job(1), job(2), job(3)]}]);
			for (const id of [1, 2]) {
				await store.apply([{type: 'run-started', run: {...job(id), runId: id, worker: 'w1', startedAt: 2, logFile: 'x'}}]);
				await store.apply([{type: 'run-finished', run: finished(id, id)}]);
			}

			await store.close();
			const reopened = await StateStore.open(dataDir);
			await reopened.apply([{type: 'run-started', run: {...job(3), runId: 3, worker: 'w1', startedAt: 2, logFile: 'x'}}]);
			await reopened.apply([{type: 'run-finished', run: finished(3, 3)}]);
			// Dropped without close(): run 3 is in the journal and the history, not in the snapshot.
			return readFileSync(stateFiles(dataDir).history, 'utf8').trim().split('\n');
		}

		async function expectRefusedThenRecovered(damage: (lines: string[]) => string, problem: RegExp): Promise<void> {
			const lines = await historyOfThreeRuns();
			const {history, previousHistory} = stateFiles(dataDir);
			const damaged = damage(lines);
			writeFileSync(history, damaged);
			const error = await StateStore.open(dataDir).catch((caught: unknown) => caught);
			expect(error).toBeInstanceOf(StateFileError);
			expect((error as Error).message).toMatch(problem);
			expect((error as Error).message).toContain(`${previousHistory}: move the damaged file away and copy that one into its place`);
			expect(readFileSync(history, 'utf8')).toBe(damaged);

			// The recovery the message gives: the last good copy, plus what the journal still knows.
			expect(readFileSync(previousHistory, 'utf8')).toBe(lines.slice(0, 2).join('\n') + '\n');
			copyFileSync(previousHistory, history);
			const recovered = await StateStore.open(dataDir);
			await recovered.close();
			expect(readFileSync(history, 'utf8').trim().split('\n').map(line => (JSON.parse(line) as FinishedRun).runId)).toEqual([1, 2, 3]);
		}

		it('refuses one with a line that is not JSON, and recovers from its last good copy', async () => {
			await expectRefusedThenRecovered(lines => `${lines[0]}\nnot json at all\n${lines[2]}\n`, /history file .*history\.jsonl is damaged \(a line near byte \d+ is not a finished run\); nothing was changed/);
		});

		it('refuses one that was cut short, and recovers from its last good copy', async () => {
			await expectRefusedThenRecovered(lines => `${lines[0]}\n`, /history file .*history\.jsonl is cut short \(\d+ bytes, the state says at least \d+\); nothing was changed/);
		});

		it('refuses one whose start was overwritten, however far before the snapshot\'s mark that is', async () => {
			const store = await StateStore.open(dataDir);
			const ids = Array.from({length: 400}, (_unused, index) => index + 1);
			await store.apply([{type: 'jobs-queued', jobs: ids.map(id => job(id))}]);
			await store.apply(ids.map(id => ({type: 'run-started', run: {...job(id), runId: id, worker: 'w1', startedAt: 2, logFile: 'x'}})));
			await store.apply(ids.map(id => ({type: 'run-finished', run: finished(id, id)})));
			await store.close();
			const {history} = stateFiles(dataDir);
			const text = readFileSync(history, 'utf8');
			expect(text.length).toBeGreaterThan(64 * 1024);
			const firstLine = text.indexOf('\n');
			writeFileSync(history, 'x'.repeat(firstLine) + text.slice(firstLine));
			await expect(StateStore.open(dataDir)).rejects.toThrow(/is damaged \(its first line is not a finished run\)/);
		});
	});

	it('refuses a journal with a damaged line before its end', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		appendFileSync(stateFiles(dataDir).journal, 'garbage\n{"seq":5,"change":{"type":"paused","paused":true}}\n');
		await expect(StateStore.open(dataDir)).rejects.toThrow(/journal .*journal\.jsonl line 2 is damaged/);
	});

	it('refuses a failed write and every change applied while it was under way, reads the state back, and goes on with the next change', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		const handle = await open(join(dataDir, 'probe'), 'w');
		const prototype = Object.getPrototypeOf(handle) as {write: (...args: unknown[]) => Promise<unknown>};
		await handle.close();
		const realWrite = prototype.write;
		let failNext = true;
		// The fault a full disk makes, injected once: the real one is in test/cli/disk-trouble.test.ts.
		vi.spyOn(prototype, 'write').mockImplementation(async function (this: unknown, ...args: unknown[]) {
			if (!failNext) return realWrite.apply(this, args);
			failNext = false;
			await new Promise(resolveLater => {
				setTimeout(resolveLater, 20);
			});
			throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'});
		});
		let reloads = 0;
		store.onReload(() => reloads++);
		const refused = store.apply([{type: 'jobs-queued', jobs: [job(2)]}]);
		await new Promise(resolveLater => {
			setImmediate(resolveLater);
		});
		const appliedMeanwhile = store.apply([{type: 'jobs-queued', jobs: [job(3)]}]);
		await expect(refused).rejects.toThrow(/could not save the state in .*journal\.jsonl: ENOSPC.*; the change was not made/);
		await expect(appliedMeanwhile).rejects.toThrow(/the change was not made/);
		expect(reloads).toBe(1);
		expect([...store.state.queue.keys()]).toEqual([1]);
		await store.apply([{type: 'jobs-queued', jobs: [job(4)]}]);
		await store.close();
		const reopened = await StateStore.open(dataDir);
		expect([...reopened.state.queue.keys()]).toEqual([1, 4]);
		await reopened.close();
	});
});
