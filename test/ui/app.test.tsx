import {afterEach, describe, expect, test} from 'vitest';
import {waitFor} from '../helpers/jobdeck.js';
import {keys, renderApp, type AppHarness} from './render-app.js';

// The real <App> on a real engine, driven only by keypresses.

let app: AppHarness | undefined;
afterEach(async () => {
	await app?.cleanup();
	app = undefined;
});

async function addWorkerByKeys(harness: AppHarness, names: string): Promise<void> {
	await harness.press('w');
	await harness.waitForScreen('Add workers');
	await harness.press(names, keys.tab, keys.tab, keys.tab, ' ');
	await harness.waitForScreen('[x] yes');
	await harness.press(keys.enter);
	await harness.waitForScreen(`added worker`);
}

async function addJobByKeys(harness: AppHarness, script: string, args = ''): Promise<void> {
	await harness.press('a');
	await harness.waitForScreen('Add a job');
	await harness.press(script);
	if (args) await harness.press(keys.tab, args);
	await harness.press(keys.enter);
}

/** Waits until `quietMs` pass with no new frame (30 s at most), and returns the frame count then. */
async function framesOnceQuiet(harness: AppHarness, quietMs: number): Promise<number> {
	const deadline = Date.now() + 30_000;
	let frames = harness.frameCount();
	let since = Date.now();
	while (Date.now() - since < quietMs) {
		if (Date.now() > deadline) throw new Error(`the screen kept redrawing for 30 s (${harness.frameCount()} frames); it shows:\n${harness.lastFrame()}`);
		await new Promise(resolve => setTimeout(resolve, 50));
		if (harness.frameCount() !== frames) {
			frames = harness.frameCount();
			since = Date.now();
		}
	}

	return frames;
}

describe('App', () => {
	test('adds a worker and a job through the forms, and shows the job\'s output', async () => {
		app = await renderApp();
		await app.waitForScreen('1 Workers');
		await addWorkerByKeys(app, 'node01');
		await app.waitForScreen(/node01\s+idle\s+0\/1/);
		app.script('hello.sh', 'echo "hello from $WORKER with $1 and $2"\nprintf "\\033[2J\\033]0;pwned\\007done\\n"');
		await addJobByKeys(app, './hello.sh', 'one "two words"');
		await app.waitForScreen('queued job #1');
		await app.press('4');
		await app.waitForScreen('✓ exit 0');
		await app.press(keys.enter);
		await app.waitForScreen('hello from node01 with one and two words');
		await app.waitForScreen(/done\s/);
		expect(app.lastFrame()).not.toContain('pwned');
		expect(app.lastFrame()).not.toContain('\u001B');
		expect(app.lastFrame()).toMatch(/done 1\s+failed 0/);
	});

	test('keys that arrive together all reach the text field, as typed: none is lost to the one before', async () => {
		app = await renderApp();
		await app.waitForScreen('1 Workers');
		await app.press('a');
		await app.waitForScreen(/› Script/);
		// Read in one go, nothing drawn in between: what a busy machine reads of keys typed while it was away.
		app.pressAtOnce('.', '/', 'o', 'k', '.', 's', 'h', 'x', '\u007F');
		await app.waitForScreen(/› Script\s+\.\/ok\.sh\s/);
		app.pressAtOnce('\u007F', '\u007F', '\u007F', 'x', 't');
		await app.waitForScreen(/› Script\s+\.\/okxt\s/);
	});

	test('a form refuses bad input with the command line\'s message and adds nothing', async () => {
		app = await renderApp();
		await app.waitForScreen('1 Workers');
		await app.press('w');
		await app.waitForScreen('Add workers');
		await app.press('-bad', keys.enter);
		await app.waitForScreen('worker name "-bad" starts with "-" and could be read as an option');
		await app.press(keys.escape);
		await app.waitForScreen('none yet: w adds workers');

		await app.press('a');
		await app.waitForScreen('Add a job');
		await app.press('./missing.sh', keys.tab, keys.tab, 'JOB_ID=1', keys.enter);
		await app.waitForScreen('env name JOB_ID is reserved: jobdeck sets it for every run');
		// Round the nine fields back to Env.
		await app.press(...Array.from({length: 9}, () => keys.tab));
		// Clear the env field with Backspace, which Ink 6 reports as delete.
		await app.press(...Array.from({length: 8}, () => '\u007F'));
		await app.press(keys.enter);
		await app.waitForScreen(/script \S+missing\.sh does not exist/);
		expect((await app.engine.snapshot()).queue).toHaveLength(0);
		await app.press(keys.shiftTab, 'it\'s', keys.enter);
		await app.waitForScreen('the arguments have an unclosed \' quote');
		await app.press(...Array.from({length: 3}, () => '\u007F'), keys.tab, keys.tab, '-1', keys.enter);
		await app.waitForScreen('retries must be a whole number from 0 to 1000, not "-1"');
		await app.press('\u007F', '\u007F', keys.tab, keys.tab, 'banana', keys.enter);
		await app.waitForScreen('duration "banana" is not like 90s, 20m or 2h');
		expect((await app.engine.snapshot()).queue).toHaveLength(0);
	});

	test('a job added from elsewhere appears at once; d removes the selected queued job', async () => {
		app = await renderApp();
		await app.waitForScreen('2 Queue');
		const script = app.script('sleep.sh', 'sleep 30');
		await app.engine.addJobs([{script, args: ['first'], cwd: app.dir}, {script, args: ['second'], cwd: app.dir}]);
		await app.waitForScreen('./sleep.sh second');
		await app.press('2', 'j', 'd');
		await app.waitForScreen('removed job #2 from the queue');
		await app.waitForScreenWithout('./sleep.sh second');
		expect((await app.engine.snapshot()).queue.map(job => job.id)).toEqual([1]);
	});

	test('a screen showing no running time does not redraw; a running job\'s elapsed time advances on its own', async () => {
		const harness = await renderApp();
		app = harness;
		await app.engine.addWorkers({workers: [{name: 'node01'}], skipSshCheck: true});
		await app.waitForScreen('node01');
		// A negative check (no frame while nothing changes), kept to a stretch of time: 2.5 s would see a
		// clock ticking each second twice. Its timer and the app's run in this one process, in the order
		// they are due, so a busy machine cannot hide a tick. What it could do is deliver one of the engine's
		// events late, drawn rightly: a stretch with an event in it does not count, and is tried again.
		let events = 0;
		const unsubscribe = app.engine.subscribe(batch => {
			events += batch.length;
		});
		await waitFor(async () => {
			const frames = await framesOnceQuiet(harness, 1000);
			const eventsBefore = events;
			await new Promise(resolve => setTimeout(resolve, 2500));
			if (events !== eventsBefore) return false;
			expect(harness.frameCount()).toBe(frames);
			return true;
		}, 120_000, () => `a stretch of 2.5 s without an event from the engine; ${events} events so far`);
		unsubscribe();

		const script = app.script('sleep.sh', 'sleep 30');
		await app.engine.addJobs([{script, args: [], cwd: app.dir}]);
		// No event, no keypress: only the time passing redraws the screen, two seconds on from the first it shows.
		const shownClock = () => /Output #1 node01 running (\d+)s/.exec(harness.lastFrame())?.[1];
		const first = Number(await waitFor(shownClock, undefined, () => `the running job's clock; the screen shows:\n${harness.lastFrame()}`));
		await waitFor(() => Number(shownClock()) >= first + 2, undefined, () => `the clock to pass ${first + 1}s; the screen shows:\n${harness.lastFrame()}`);
		// The Running pane's clock advances too (a busy machine may draw it a second later).
		await app.waitForScreen(/#1 +node01 +([3-9]|\d\d)s/);
	});

	test('c cancels the selected running job after asking', async () => {
		app = await renderApp();
		await app.engine.addWorkers({workers: [{name: 'node01'}], skipSshCheck: true});
		const script = app.script('forever.sh', 'while true; do echo "tick $(date +%s%N)"; sleep 0.1; done');
		await app.engine.addJobs([{script, cwd: app.dir}]);
		await app.waitForScreen(/#1\s+node01/);
		await app.press('3');
		await app.waitForScreen('tick');
		await app.press('c');
		await app.waitForScreen('Cancel job #1?');
		await app.press('n');
		await app.waitForScreenWithout('Cancel job #1?');
		await app.press('c');
		await app.waitForScreen('Cancel job #1?');
		await app.press('y');
		await app.waitForScreen('cancelling job #1');
		await app.waitForScreen('⊘ SIGTERM');
		await app.waitForScreen(/failed 1/);
	});

	test('removing a busy worker asks whether to wait for its job or kill it', async () => {
		app = await renderApp();
		await app.engine.addWorkers({workers: [{name: 'node01'}], skipSshCheck: true});
		const script = app.script('forever.sh', 'sleep 30');
		await app.engine.addJobs([{script, cwd: app.dir}]);
		await app.waitForScreen(/node01\s+busy/);
		await app.press('1', 'd');
		await app.waitForScreen('[w] wait for its jobs');
		await app.press(keys.escape);
		await app.waitForScreen(/node01\s+busy/);
		await app.press('d');
		await app.waitForScreen('[k] kill them');
		await app.press('k');
		await app.waitForScreen('none yet: w adds workers');
		await app.waitForScreen('⊘ SIGTERM');
	});

	test('p pauses and resumes, D drains, r re-queues a finished job', async () => {
		app = await renderApp();
		await app.engine.addWorkers({workers: [{name: 'node01'}], skipSshCheck: true});
		const script = app.script('quick.sh', 'exit 3');
		await app.engine.addJobs([{script, cwd: app.dir}]);
		await app.press('4');
		await app.waitForScreen('✗ exit 3');
		await app.press('p');
		await app.waitForScreen('‖ paused');
		await app.press('4', 'r');
		await app.waitForScreen('re-queued job #1');
		await app.press('2');
		await app.waitForScreen('2 Queue (paused)');
		await app.press('1', 'D');
		await app.waitForScreen(/node01\s+drain/);
		await app.press('D', 'p');
		await app.waitForScreen('● running');
		await app.waitForScreen(/failed 2/);
	});

	test('the forms take tags, needs, priority and after with the command line\'s checks; the queue says why a job waits; + and - change its priority', async () => {
		app = await renderApp();
		await app.waitForScreen('1 Workers');
		// Names, Env, Slots, Skip ssh check, Tags.
		await app.press('w');
		await app.waitForScreen('Add workers');
		await app.press('node01', keys.tab, keys.tab, keys.tab, ' ', keys.tab, 'gpu,', keys.enter);
		await app.waitForScreen('tag "gpu," contains a space or a comma');
		await app.press('\u007F', ' ssd', keys.enter);
		await app.waitForScreen('added worker');
		await app.waitForScreen(/node01\s+idle\s+0\/1\s+0✓ 0✗\s+gpu,ssd/);
		expect((await app.engine.snapshot()).workers[0]!.tags).toEqual(['gpu', 'ssd']);

		app.script('x.sh', 'sleep 30');
		// Script, Arguments, Env, Retries, Retry delay, Timeout, then Needs tags, Priority, After jobs.
		await app.press('a');
		await app.waitForScreen('Add a job');
		await app.press('./x.sh', ...Array.from({length: 6}, () => keys.tab), 'tpu,,gpu', keys.enter);
		await app.waitForScreen('a tag is empty');
		await app.press(...Array.from({length: 8}, () => '\u007F'), 'tpu', keys.tab, 'banana', keys.enter);
		await app.waitForScreen('priority must be a whole number from -1000000 to 1000000, not "banana"');
		await app.press(...Array.from({length: 6}, () => '\u007F'), '5', keys.tab, '99', keys.enter);
		await app.waitForScreen('--after: job 99 is not known');
		expect((await app.engine.snapshot()).queue).toHaveLength(0);
		await app.press('\u007F', '\u007F', keys.enter);
		await app.waitForScreen('queued job #1');
		await app.waitForScreen(/#1\s+5\s+tpu\s+needs tpu: no worker has it\s+\.\/x\.sh/);
		expect((await app.engine.snapshot()).queue).toMatchObject([{id: 1, needs: ['tpu'], priority: 5}]);

		// Two plain jobs behind it wait for the one they run after: the busy worker runs job 2.
		await app.engine.addJobs([{script: './x.sh', args: ['two'], cwd: app.dir}]);
		await app.engine.addJobs([{script: './x.sh', args: ['three'], cwd: app.dir, after: [2]}]);
		await app.waitForScreen(/#3\s+0\s+—\s+waiting for job 2/);
		await app.press('2', 'j', '+');
		await app.waitForScreen(/#3\s+1\s+—/);
		await app.press('=');
		await app.waitForScreen('job #3 now has priority 2');
		await app.waitForScreen(/#3\s+2\s+—/);
		expect((await app.engine.snapshot()).queue.map(job => [job.id, job.priority ?? 0])).toEqual([[1, 5], [3, 2]]);
		await app.press('-');
		await app.waitForScreen('job #3 now has priority 1');
	});

	test('? shows the keys; / filters the pane; Tab moves between panes', async () => {
		app = await renderApp({columns: 80, rows: 24});
		const script = app.script('x.sh', 'true');
		await app.engine.addJobs([{script, args: ['alpha'], cwd: app.dir}, {script, args: ['beta'], cwd: app.dir}]);
		await app.waitForScreen('./x.sh beta');
		await app.press('?');
		await app.waitForScreen('re-queue a finished job');
		await app.press(keys.escape);
		await app.waitForScreen(/Queue 1\/2/);
		await app.press('/');
		await app.waitForScreen('filter Queue:');
		await app.press('bet');
		await app.waitForScreen(/Queue 1\/1 \/bet/);
		await app.waitForScreenWithout('./x.sh alpha');
		await app.press(keys.enter, keys.tab);
		await app.waitForScreen('╔═ 3 Running');
		await app.press(keys.shiftTab, keys.escape);
		await app.waitForScreen('./x.sh alpha');
	});

	test('q asks first, says running jobs keep running, and quits only on yes', async () => {
		app = await renderApp();
		await app.waitForScreen('1 Workers');
		await app.press('q');
		await app.waitForScreen('Quit jobdeck?');
		await app.press('n');
		await app.waitForScreenWithout('Quit jobdeck?');
		expect(app.quit).not.toHaveBeenCalled();
		await app.press(keys.ctrlC);
		await app.waitForScreen('Quit jobdeck?');
		await app.press('y');
		await expect.poll(() => app!.quit.mock.calls.length, {timeout: 30_000}).toBe(1);
	});

	test('fits 80x24 and uses 200x50 with three columns', async () => {
		app = await renderApp({columns: 80, rows: 24});
		await app.waitForScreen('1 Workers');
		let lines = app.lastFrame().split('\n');
		expect(lines).toHaveLength(23);
		expect(Math.max(...lines.map(line => Array.from(line).length))).toBeLessThanOrEqual(80);
		await app.cleanup();
		app = await renderApp({columns: 200, rows: 50});
		await app.waitForScreen('4 History');
		lines = app.lastFrame().split('\n');
		expect(lines).toHaveLength(49);
		expect(lines.find(line => line.includes('3 Running'))).toContain('5 Output');
	});
});
