import {mkdirSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {execa} from 'execa';
import {afterEach, beforeEach, expect, test} from 'vitest';
import {addJob, cliPath, createSandbox, waitFor, type Sandbox} from '../helpers/jobdeck.js';

// `jobdeck events` against a real scheduler process, and what a client says
// to a scheduler that speaks another control protocol version.

let sandbox: Sandbox;
let fakeServer: Server | undefined;

beforeEach(() => {
	sandbox = createSandbox('jobdeck-events-');
});

afterEach(async () => {
	fakeServer?.close();
	fakeServer = undefined;
	await sandbox.cleanup();
});

type Event = {type: string; at: number; run?: {id: number; exitCode: number | null; worker: string}; workers?: Array<{name: string}>; jobs?: Array<{id: number}>};

function followEvents(args: string[]) {
	const child = execa('node', [cliPath, 'events', '--data-dir', sandbox.dataDir, ...args], {reject: false, stdin: 'ignore'});
	let output = '';
	child.stdout.setEncoding('utf8');
	child.stdout.on('data', (chunk: string) => {
		output += chunk;
	});
	return {child, output: () => output};
}

/** Until its subscription is in place a client could miss events: pausing and resuming shows when it is. */
async function untilFollowing(output: () => string, resumed: string): Promise<void> {
	await waitFor(async () => {
		if (output().includes(resumed)) return true;
		await sandbox.run(['pause']);
		await sandbox.run(['resume']);
		return false;
	}, undefined, 'the events stream');
}

test('events --json prints the events of a short run, in order, and ends when the scheduler stops', async () => {
	// Held until released: the second job is queued while the first runs, however long a command takes to start.
	sandbox.script('job.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\nexit "$1"\n');
	await sandbox.startScheduler();
	const events = followEvents(['--json']);
	await untilFollowing(events.output, '"resumed"');
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
	const first = await addJob(sandbox, ['./job.sh', '0']);
	await waitFor(() => events.output().includes('"job-started"'), undefined, () => `the first job to start; events printed:\n${events.output()}`);
	const second = await addJob(sandbox, ['./job.sh', '5']);
	writeFileSync(join(sandbox.dir, 'release'), '');
	await waitFor(() => events.output().split('\n').filter(line => line.includes('"job-finished"')).length === 2, undefined, 'both jobs to finish');
	await sandbox.run(['stop']);
	const result = await events.child;
	expect(result.exitCode).toBe(0);

	const seen = events.output().trim().split('\n').map(line => JSON.parse(line) as Event).filter(event => event.type !== 'worker-updated');
	const afterProbe = seen.slice(seen.findLastIndex(event => event.type === 'resumed') + 1);
	expect(afterProbe.map(event => event.type)).toEqual(['workers-added', 'jobs-queued', 'job-started', 'jobs-queued', 'job-finished', 'job-started', 'job-finished', 'stopping']);
	expect(afterProbe[0]!.workers!.map(worker => worker.name)).toEqual(['w1']);
	const finished = afterProbe.filter(event => event.type === 'job-finished').map(event => [event.run!.id, event.run!.exitCode, event.run!.worker]);
	expect(finished).toEqual([[first, 0, 'w1'], [second, 5, 'w1']]);
	expect(afterProbe.map(event => event.at)).toEqual([...afterProbe.map(event => event.at)].sort((a, b) => a - b));
});

test('events prints one line per event without --json; a killed scheduler is an error', async () => {
	const scheduler = await sandbox.startScheduler();
	const events = followEvents([]);
	await untilFollowing(events.output, ' resumed\n');
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
	await waitFor(() => events.output().includes('added worker w1'), undefined, 'the worker\'s event');
	expect(events.output()).toMatch(/\n\d{4}-\d\d-\d\dT[\d:.]+Z added worker w1 \(1 slot\)\n/);
	scheduler.process.kill('SIGKILL');
	const result = await events.child;
	expect(result.exitCode).toBe(1);
	expect(result.stderr).toMatch(/^jobdeck: the scheduler on \S+ went away without stopping$/);
});

test('ui without a terminal says where to look instead, in one line, and leaves the scheduler be', async () => {
	await sandbox.startScheduler();
	const result = await sandbox.run(['ui']);
	expect(result.exitCode).toBe(1);
	expect(result.stderr).toBe('jobdeck: ui needs a terminal: `jobdeck events` prints what happens, `jobdeck status` the state\n');
	expect((await sandbox.run(['status'])).exitCode).toBe(0);
});

test('with no scheduler running, events and ui say so in one line', async () => {
	for (const command of ['events', 'ui']) {
		const result = await sandbox.run([command]);
		expect(result.exitCode).toBe(1);
		expect(result.stderr).toMatch(/^jobdeck: no scheduler is running on \S+: start one with `jobdeck start --data-dir \S+`\n$/);
	}
});

test('a scheduler that speaks another protocol version: events and ui say so in one line, no crash', async () => {
	// What a scheduler of another jobdeck version answers to every request of ours.
	mkdirSync(sandbox.dataDir, {recursive: true});
	fakeServer = createServer(socket => {
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			for (const line of chunk.split('\n').filter(Boolean)) {
				const {id} = JSON.parse(line) as {id: number};
				socket.write(JSON.stringify({id, error: {message: 'this scheduler speaks control protocol 3, the client 2: use the same jobdeck version for both', user: true}}) + '\n');
			}
		});
	});
	await new Promise<void>(resolve => {
		fakeServer!.listen(join(sandbox.dataDir, 'control.sock'), resolve);
	});
	for (const command of ['events', 'ui', 'status']) {
		const result = await sandbox.run([command]);
		expect(result.exitCode, command).toBe(1);
		expect(result.stderr, command).toBe('jobdeck: this scheduler speaks control protocol 3, the client 2: use the same jobdeck version for both\n');
	}
});
