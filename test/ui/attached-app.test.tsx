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
	await expect.poll(() => app!.quit.mock.calls.length).toBe(1);
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
