import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, expect, it} from 'vitest';
import type {FinishedRun, QueuedJob, Worker} from '../../source/core/model.js';
import {Retention} from '../../source/engine/retention.js';
import {StateStore} from '../../source/engine/state/state-store.js';
import {waitFor} from '../helpers/jobdeck.js';

// The retention policy against a real store on real files, fed a steady
// stream of finished runs: a clean starts only once the history holds more
// than the policy keeps by a tenth, so each removes at least that tenth.
// A clean may not set off the next as it ends (a timer armed while it ran,
// on the count from before it), which would keep the history being
// rewritten all the time for a few runs each.

const keep = 2000;
/** The policy cleans once the history passes `keep` by a tenth. */
const leastRemoved = keep / 10 + 1;

let dataDir: string;

beforeEach(() => {
	dataDir = mkdtempSync(join(tmpdir(), 'jobdeck-retention-policy-'));
});

afterEach(() => {
	rmSync(dataDir, {recursive: true, force: true});
});

const worker: Worker = {name: 'w1', slots: 1, env: {}, addedAt: 1, removeWhenIdle: false, drained: false, jobsDone: 0, jobsFailed: 0};
const job = (id: number): QueuedJob => ({id, script: '/bin/true', args: [String(id)], env: {}, cwd: '/', queuedAt: 1});
const finished = (id: number): FinishedRun => ({
	...job(id), runId: id, worker: 'w1', startedAt: 2, logFile: join(dataDir, `job_${id}.txt`), endedAt: 3, exitCode: 0, signal: null, outcome: 'succeeded',
});

it('cleans a steady stream in batches of at least a tenth of what it keeps, never one clean right after another', async () => {
	const store = await StateStore.open(dataDir, {sync: false});
	const cleans: number[] = [];
	const retention = new Retention(store, removed => cleans.push(removed.size), message => {
		throw new Error(message);
	});
	await store.apply([{type: 'workers-added', workers: [worker]}]);
	await retention.start({keepFinished: keep});
	let nextId = 1;
	// As the engine records ends: applied at once, saved when the store can (not waited for, so a clean does not hold the stream up).
	const saves: Array<Promise<void>> = [];
	const finish = (count: number) => {
		const ids = Array.from({length: count}, () => nextId++);
		// Each run with its log, as the engine's: removing them is part of a clean, and runs end meanwhile.
		for (const id of ids) writeFileSync(finished(id).logFile, 'ok\n');
		saves.push(
			store.apply([{type: 'jobs-queued', jobs: ids.map(id => job(id))}]),
			store.apply(ids.map(id => ({type: 'run-started' as const, run: {...job(id), runId: id, worker: 'w1', startedAt: 2, logFile: finished(id).logFile}}))),
			store.apply(ids.map(id => ({type: 'run-finished' as const, run: finished(id)}))),
		);
	};

	// Past the bound at once, then far fewer runs a second than the tenth that sets off a clean.
	finish(keep + 2 * leastRemoved);
	await waitFor(() => cleans.length >= 1 || undefined, 30_000, 'the first clean');
	const streamUntil = cleans.length + 2;
	await waitFor(async () => {
		finish(1);
		// The pace of the stream (at most 160 runs a second, under the tenth that sets off a clean), not a wait for anything.
		await new Promise(resolve => setTimeout(resolve, 6));
		return cleans.length >= streamUntil || undefined;
	}, 120_000, () => `two more cleans while runs keep coming; the cleans removed ${cleans.join(', ')}`);
	await Promise.all(saves);
	await retention.close();
	await store.close();
	for (const removed of cleans) expect(removed, `every clean removed at least ${leastRemoved}: ${cleans.join(', ')}`).toBeGreaterThanOrEqual(leastRemoved);
});
