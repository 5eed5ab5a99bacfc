import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, expect, test} from 'vitest';
import {createSandbox, statusOf, type Sandbox} from '../helpers/jobdeck.js';
import {keys, renderAttachedApp, type AttachedAppHarness} from './render-app.js';

// The UI as `jobdeck ui` runs it: attached over the control socket to a real
// headless scheduler process, driven only by keypresses.

let sandbox: Sandbox | undefined;
let app: AttachedAppHarness | undefined;
afterEach(async () => {
	await app?.cleanup();
	app = undefined;
	await sandbox?.cleanup();
	sandbox = undefined;
});

test('adds a worker and a job with the keyboard through the socket; quitting leaves the scheduler running', async () => {
	sandbox = createSandbox('jobdeck-attached-');
	await sandbox.startScheduler();
	app = await renderAttachedApp(sandbox);
	await app.waitForScreen('1 Workers');
	await app.press('w');
	await app.waitForScreen('Add workers');
	await app.press('node01', keys.tab, keys.tab, keys.tab, ' ');
	await app.waitForScreen('[x] yes');
	await app.press(keys.enter);
	await app.waitForScreen(/node01\s+idle\s+0\/1/);
	app.script('hello.sh', 'echo "hello from $WORKER: $1"');
	await app.press('a');
	await app.waitForScreen('Add a job');
	await app.press('./hello.sh', keys.tab, 'there');
	await app.press(keys.enter);
	await app.waitForScreen('queued job #1');
	await app.waitForScreen(/done 1\s+failed 0/);

	await app.press('q');
	await app.waitForScreen('Quit this screen?');
	await app.waitForScreen('The scheduler keeps running');
	await app.press('y');
	await expect.poll(() => app!.quit.mock.calls.length, {timeout: 30_000}).toBe(1);
	await app.cleanup();
	app = undefined;

	// The scheduler never noticed: it answers, with what the keyboard added.
	const status = await statusOf(sandbox);
	expect(status.scheduler.running).toBe(true);
	expect(status.workers.map(worker => worker.name)).toEqual(['node01']);
	expect(status.finished.map(run => [run.id, run.exitCode, run.args])).toEqual([[1, 0, ['there']]]);
});

test('S stops the scheduler after asking; the screen says it is gone, and follows the next one', async () => {
	sandbox = createSandbox('jobdeck-attached-');
	await sandbox.startScheduler();
	app = await renderAttachedApp(sandbox);
	await app.waitForScreen('● running');
	await app.press('S');
	await app.waitForScreen('Stop the scheduler?');
	await app.press('n');
	await app.waitForScreenWithout('Stop the scheduler?');
	expect((await statusOf(sandbox)).scheduler.running).toBe(true);

	await app.press('S');
	await app.waitForScreen('Stop the scheduler?');
	await app.press('y');
	await app.waitForScreen('scheduler gone');
	await app.waitForScreen('stale since');
	expect(app.quit).not.toHaveBeenCalled();
	expect((await statusOf(sandbox)).scheduler.running).toBe(false);
	// While it is gone, an operation says so instead of hanging.
	await app.press('p');
	await app.waitForScreen('is gone: waiting for it to come back');

	await sandbox.startScheduler();
	await sandbox.run(['add-worker', '--skip-ssh-check', 'late-worker']);
	await app.waitForScreen(/late-worker\s+idle/);
	await app.waitForScreen('● running');
	expect(app.lastFrame()).not.toContain('stale since');
});

test('a long queue comes a page at a time: the end, a filter done by the scheduler, and d on a job far down', async () => {
	sandbox = createSandbox('jobdeck-attached-');
	await sandbox.startScheduler();
	await sandbox.run(['pause']);
	sandbox.script('job.sh', '#!/bin/sh\ntrue\n');
	writeFileSync(join(sandbox.dir, 'list.txt'), Array.from({length: 3000}, (_, index) => `input-${index + 1}`).join('\n') + '\n');
	expect((await sandbox.run(['add-job', '--from-file', 'list.txt', './job.sh'])).exitCode).toBe(0);
	app = await renderAttachedApp(sandbox);
	await app.waitForScreen(/queued 3000/);
	await app.waitForScreen(/#1\s.*\.\/job\.sh input-1\s/);
	expect(app.lastFrame()).not.toContain('input-3000');

	await app.press('2', 'G');
	await app.waitForScreen(/3000\s+#3000\s.*input-3000/);
	await app.waitForScreen('3000/3000');
	await app.press('k', 'd');
	await app.waitForScreen('removed job #2999 from the queue');
	await app.waitForScreen(/queued 2999/);

	await app.press('/');
	await app.press('input-29');
	await app.waitForScreen(/\/input-29/);
	// input-29, input-290 … input-299 and input-2900 … input-2998, input-3000 has no "29": 1 + 10 + 99.
	await app.waitForScreen('1/110');
	await app.press(keys.enter, 'G');
	await app.waitForScreen(/110\/110/);
	await app.waitForScreen(/#2998\s.*input-2998/);
	await app.press(keys.escape);
	await app.waitForScreen('1/2999');
	const status = await statusOf(sandbox);
	expect(status.queue.some(job => job.id === 2999)).toBe(false);
	expect(status.queue).toHaveLength(2999);
});

test('a scheduler frozen with kill -STOP: the header says it is not answering, within the request timeout, and clears once it runs again', async () => {
	sandbox = createSandbox('jobdeck-attached-');
	const scheduler = await sandbox.startScheduler();
	const pid = scheduler.process.pid!;
	// The client reads its timeout as it connects; 1 s here instead of 30 s.
	const previous = process.env.JOBDECK_REQUEST_TIMEOUT;
	process.env.JOBDECK_REQUEST_TIMEOUT = '1s';
	try {
		app = await renderAttachedApp(sandbox);
	} finally {
		if (previous === undefined) delete process.env.JOBDECK_REQUEST_TIMEOUT;
		else process.env.JOBDECK_REQUEST_TIMEOUT = previous;
	}

	await app.waitForScreen('● running');
	process.kill(pid, 'SIGSTOP');
	try {
		await app.waitForScreen('scheduler not answering');
	} finally {
		process.kill(pid, 'SIGCONT');
	}

	await sandbox.run(['add-worker', '--skip-ssh-check', 'after-thaw']);
	await app.waitForScreen(/after-thaw\s+idle/);
	await app.waitForScreen('● running');
	expect(app.lastFrame()).not.toContain('not answering');
});
