import {copyFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import type {QueuedJob, Worker} from '../../source/core/model.js';
import {StateFileError, StateStore, stateFiles} from '../../source/engine/state/state-store.js';

// A start never silently loses state: a snapshot that is missing, or older
// than the journal that follows it, is refused with the way back, and
// nothing is written (state.json.prev above all) until it is put right.

let dataDir: string;

beforeEach(() => {
	dataDir = mkdtempSync(join(tmpdir(), 'jobdeck-start-checks-'));
});

afterEach(() => {
	rmSync(dataDir, {recursive: true, force: true});
});

const worker = (name: string): Worker => ({name, slots: 1, env: {}, addedAt: 1, removeWhenIdle: false, drained: false, jobsDone: 0, jobsFailed: 0});
const job = (id: number): QueuedJob => ({id, script: '/bin/true', args: [String(id)], env: {}, cwd: '/', queuedAt: 1});

function filesOf(dir: string): Record<string, string> {
	return Object.fromEntries(readdirSync(dir).sort().map(name => [name, readFileSync(join(dir, name), 'latin1')]));
}

/** Two workers and ten jobs in the snapshot, ten more jobs in the journal only (the store is dropped, as by a kill). */
async function dataDirWithJournal(): Promise<void> {
	const store = await StateStore.open(dataDir);
	await store.apply([{type: 'workers-added', workers: [worker('w1'), worker('w2')]}]);
	await store.apply([{type: 'jobs-queued', jobs: Array.from({length: 10}, (_unused, index) => job(index + 1))}]);
	await store.close();
	const reopened = await StateStore.open(dataDir);
	for (let id = 11; id <= 20; id++) await reopened.apply([{type: 'jobs-queued', jobs: [job(id)]}]);
}

async function expectRefused(message: RegExp): Promise<void> {
	const before = filesOf(dataDir);
	const error = await StateStore.open(dataDir).catch((caught: unknown) => caught);
	expect(error).toBeInstanceOf(StateFileError);
	expect((error as Error).message).toMatch(message);
	expect((error as Error).message).not.toContain('\n');
	expect(filesOf(dataDir)).toEqual(before);
}

describe('a start on a snapshot that does not fit the journal', () => {
	it('refuses a deleted state.json, naming it and its copy; the copy brings back all of it', async () => {
		await dataDirWithJournal();
		const {state} = stateFiles(dataDir);
		rmSync(state);
		await expectRefused(new RegExp(`^state file ${state} is missing, but this data dir has been used before; nothing was changed\\. Its last good copy is ${state}\\.prev: copy that one into its place`));
		copyFileSync(`${state}.prev`, state);
		const recovered = await StateStore.open(dataDir);
		expect([...recovered.state.workers.keys()]).toEqual(['w1', 'w2']);
		expect([...recovered.state.queue.keys()]).toEqual(Array.from({length: 20}, (_unused, index) => index + 1));
		await recovered.close();
	});

	it('refuses a deleted state.json right after a clean stop too (empty journal)', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		await store.close();
		const {state, journal} = stateFiles(dataDir);
		expect(readFileSync(journal, 'utf8')).toBe('');
		rmSync(state);
		await expectRefused(/is missing, but this data dir has been used before/);
	});

	it('refuses a state.json older than the journal (put back from an old copy), naming both files', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		await store.close();
		const {state, journal} = stateFiles(dataDir);
		copyFileSync(state, join(dataDir, 'old-state'));
		const again = await StateStore.open(dataDir);
		await again.apply([{type: 'jobs-queued', jobs: [job(2)]}]);
		await again.close();
		const last = await StateStore.open(dataDir);
		await last.apply([{type: 'jobs-queued', jobs: [job(3)]}]);
		// Killed here; then someone puts an old snapshot in place.
		renameSync(join(dataDir, 'old-state'), state);
		await expectRefused(new RegExp(`^journal ${journal} goes on at change 3 but state file ${state} ends at change 1 \\(the snapshot is missing or older than the journal\\); nothing was changed\\. Its last good copy ${state}\\.prev ends at change 2`));
		copyFileSync(`${state}.prev`, state);
		const recovered = await StateStore.open(dataDir);
		expect([...recovered.state.queue.keys()]).toEqual([1, 2, 3]);
		await recovered.close();
	});

	it('loads a journal that begins at the first change, with no snapshot yet (a first start without room for one)', async () => {
		const store = await StateStore.open(dataDir);
		await store.apply([{type: 'workers-added', workers: [worker('w1')]}]);
		await store.apply([{type: 'jobs-queued', jobs: [job(1)]}]);
		const {state} = stateFiles(dataDir);
		rmSync(state);
		rmSync(`${state}.prev`);
		const reopened = await StateStore.open(dataDir);
		expect([...reopened.state.queue.keys()]).toEqual([1]);
		expect([...reopened.state.workers.keys()]).toEqual(['w1']);
		await reopened.close();
	});
});
