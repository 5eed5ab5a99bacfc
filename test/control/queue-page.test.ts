import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {connectToScheduler, type SchedulerClient} from '../../source/control/control-client.js';
import type {SchedulerEvent} from '../../source/core/scheduler.js';
import {createSandbox, waitFor, type Sandbox} from '../helpers/jobdeck.js';

// A screen never needs the whole queue: it asks a real scheduler process for
// the page it shows, filtered there, and hears of queue changes as counts.

let sandbox: Sandbox;
let client: SchedulerClient;

beforeAll(async () => {
	sandbox = createSandbox('jobdeck-queue-page-');
	await sandbox.startScheduler();
	await sandbox.run(['pause']);
	writeFileSync(join(sandbox.dir, 'list.txt'), Array.from({length: 5000}, (_, index) => `input-${index + 1}.txt`).join('\n') + '\n');
	sandbox.script('job.sh', '#!/bin/sh\ntrue\n');
	const added = await sandbox.run(['add-job', '--from-file', 'list.txt', './job.sh']);
	expect(added.exitCode, added.stderr).toBe(0);
	client = await connectToScheduler(sandbox.dataDir);
});

afterAll(async () => {
	// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
	client?.close();
	await sandbox.cleanup();
});

test('queuePage returns a stretch of the queue in order, and the whole length', async () => {
	const page = await client.queuePage({offset: 4990, limit: 50});
	expect(page.total).toBe(5000);
	expect(page.offset).toBe(4990);
	expect(page.jobs.map(job => job.args[0])).toEqual(Array.from({length: 10}, (_, index) => `input-${4991 + index}.txt`));
	expect((await client.queuePage({offset: 0, limit: 3})).jobs.map(job => job.id)).toEqual([1, 2, 3]);
});

test('the scheduler applies the filter: the page and the total are of the jobs that match', async () => {
	// input-1.txt, input-10.txt … input-19.txt, input-100.txt …: 1 + 10 + 100 + 1000.
	const page = await client.queuePage({offset: 0, limit: 5, filter: '  INPUT-1  '});
	expect(page.total).toBe(1111);
	expect(page.jobs.map(job => job.args[0])).toEqual(['input-1.txt', 'input-10.txt', 'input-11.txt', 'input-12.txt', 'input-13.txt']);
	expect((await client.queuePage({offset: 0, limit: 5, filter: '#4999 '})).jobs.map(job => job.id)).toEqual([4999]);
	expect((await client.queuePage({offset: 0, limit: 5, filter: 'no such job'})).total).toBe(0);
});

test('a snapshot can leave the queue out and still say how long it is', async () => {
	const snapshot = await client.snapshot({queue: false});
	expect(snapshot.queue).toEqual([]);
	expect(snapshot.queueLength).toBe(5000);
	expect((await client.snapshot()).queue).toHaveLength(5000);
});

test('a subscriber that asked for counts hears of a bulk add as one queue-changed, with no job in it', async () => {
	const counting = await connectToScheduler(sandbox.dataDir);
	const events: SchedulerEvent[] = [];
	counting.subscribe(batch => events.push(...batch), {queue: 'counts'});
	try {
		await waitFor(async () => {
			if (events.some(event => event.type === 'resumed')) return true;
			await client.setPaused(false);
			await client.setPaused(true);
			return false;
		}, undefined, 'the subscription');
		events.length = 0;
		const result = await sandbox.run(['add-job', '--from-file', 'list.txt', './job.sh']);
		expect(result.exitCode).toBe(0);
		const changed = await waitFor(() => events.find(event => event.type === 'queue-changed'), undefined, 'queue-changed');
		expect(changed).toMatchObject({type: 'queue-changed', length: 10_000});
		expect(events.some(event => event.type === 'jobs-queued')).toBe(false);
		expect(JSON.stringify(events).length).toBeLessThan(1000);
	} finally {
		counting.close();
	}
});

test('malformed page requests are refused by name', async () => {
	for (const request of [{offset: -1, limit: 5}, {offset: 0, limit: 1e9}, {offset: 0, limit: 5, filter: 7}, 'page 1']) {
		await expect(client.queuePage(request as never)).rejects.toThrow(/^malformed request: queuePage takes \{offset, limit \(at most 10000\), filter\?: text\}$/);
	}

	await expect(client.snapshot({queue: 'no'} as never)).rejects.toThrow(/^malformed request: snapshot takes \{queue\?: true or false\}$/);
});
