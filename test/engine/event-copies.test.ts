import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, test, vi} from 'vitest';
import type {SchedulerEvent} from '../../source/core/scheduler.js';
import {Engine} from '../../source/engine/engine.js';

// Events carry copies made when they are emitted: a listener that keeps an
// event (the control server serialises its batch 50 ms later) sees what was
// true then, not what the state changed since.

let engine: Engine | undefined;
let dir: string | undefined;

afterEach(async () => {
	await engine?.stop();
	engine = undefined;
	if (dir) rmSync(dir, {recursive: true, force: true});
});

async function startEngine(): Promise<{engine: Engine; events: SchedulerEvent[]; script: string}> {
	dir = mkdtempSync(join(tmpdir(), 'jobdeck-events-'));
	const script = join(dir, 'job.sh');
	writeFileSync(script, '#!/bin/sh\nexit 0\n');
	chmodSync(script, 0o755);
	engine = await Engine.start({dataDir: join(dir, 'data'), logDir: join(dir, 'logs')});
	const events: SchedulerEvent[] = [];
	engine.subscribe(batch => events.push(...batch));
	return {engine, events, script};
}

describe('events carry copies', () => {
	test('job-started does not show the pid the run got later, and every event is frozen', async () => {
		const {engine, events, script} = await startEngine();
		await engine.addWorkers({workers: [{name: 'w1'}], skipSshCheck: true});
		await engine.addJobs([{script, args: [], env: {}, cwd: dir!}]);
		await vi.waitFor(() => {
			expect(events.map(event => event.type)).toContain('job-finished');
		}, {timeout: 30_000});
		const started = events.find(event => event.type === 'job-started');
		expect(started?.type === 'job-started' && started.run.pid).toBeUndefined();
		for (const event of events) expect(Object.isFrozen(event)).toBe(true);
		// The run the state holds did get its pid: the copy is what kept it out.
		const finished = events.find(event => event.type === 'job-finished');
		expect(finished?.type === 'job-finished' && finished.run.pid).toBeGreaterThan(0);
	});

	test('jobs-updated carries the priority of its own change, not of the next one', async () => {
		const {engine, events, script} = await startEngine();
		const [job] = await engine.addJobs([{script, args: [], env: {}, cwd: dir!}]);
		await engine.setJobPriority([job!.id], 5);
		await engine.setJobPriority([job!.id], 9);
		await vi.waitFor(() => {
			expect(events.filter(event => event.type === 'jobs-updated')).toHaveLength(2);
		}, {timeout: 30_000});
		const priorities = events.flatMap(event => event.type === 'jobs-updated' ? event.jobs.map(updated => updated.priority) : []);
		expect(priorities).toEqual([5, 9]);
	});

	test('a second stop() resolves only once the first has closed the store and released the data dir', async () => {
		const {engine} = await startEngine();
		let stopped = false;
		void engine.stopped.then(() => {
			stopped = true;
		});
		const first = engine.stop();
		await engine.stop();
		expect(stopped).toBe(true);
		await first;
		// The data dir is free again: another scheduler can take it.
		const next = await Engine.start({dataDir: join(dir!, 'data'), logDir: join(dir!, 'logs')});
		await next.stop();
	});
});
