import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, expect, test} from 'vitest';
import {cliPath, createSandbox, isAlive, statusOf, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';
import {startTmux, type TmuxSession} from '../helpers/tmux.js';

// One scheduler, many screens, in real terminals: `jobdeck ui` in two tmux
// windows on one headless scheduler, and `jobdeck start` detaching its
// scheduler into the background while jobs run.

let sandbox: Sandbox | undefined;
let terminal: TmuxSession | undefined;

afterEach(async () => {
	terminal?.kill();
	terminal = undefined;
	if (sandbox) {
		// A scheduler left in the background by a test is stopped like any other.
		await sandbox.run(['stop']);
		await sandbox.cleanup();
	}

	sandbox = undefined;
});

const shell = (dir: string, command: string): string => `sh -c 'cd ${dir} && env -u CI node ${cliPath} ${command}; echo "jobdeck exited $?"; sleep 600'`;

test('two UIs on one scheduler (`ui`, and `start` attaching): a job added in one shows in the other; both see it killed and come back with the next', async () => {
	sandbox = createSandbox('jobdeck-attach-e2e-');
	sandbox.script('long.sh', '#!/bin/sh\necho "working on $1"\nsleep 60\n');
	let scheduler = await sandbox.startScheduler();
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
	const first = startTmux(shell(sandbox.dir, `ui --data-dir ${sandbox.dataDir}`), {columns: 120, rows: 40});
	terminal = first;
	// `start` on a terminal, with a scheduler already running there, attaches to it as `ui` does, and says so.
	const second = first.openWindow('second', shell(sandbox.dir, `start --data-dir ${sandbox.dataDir} --log-dir ${sandbox.logDir}`));
	await second.waitFor(/a scheduler already runs on \S+: attached to it \(q leaves it running\)/);
	for (const window of [first, second]) await window.waitFor(/w1\s+idle/);

	await first.press('a');
	await first.waitFor(/Add a job/);
	await first.type('./long.sh');
	await first.press('Tab');
	await first.type('alpha');
	await first.press('Enter');
	await first.waitFor(/queued job #1/);
	// The second screen needs no key to learn of it (how fast: bench/attach.mjs).
	await second.waitFor(/queued 0\s+running 1[\s\S]*working on alpha/);

	scheduler.process.kill('SIGKILL');
	await scheduler.process;
	for (const window of [first, second]) {
		const screen = await window.waitFor(/scheduler gone · stale since/);
		// The last state stays on screen.
		expect(screen).toMatch(/running 1/);
	}

	// Why, in the footer of the screen that has nothing else to say there.
	await second.waitFor(/no scheduler answers on \S+\.data/);

	scheduler = await sandbox.startScheduler();
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w2']);
	for (const window of [first, second]) {
		const screen = await window.waitFor(/● running[\s\S]*w2\s+idle/);
		expect(screen).not.toMatch(/stale since/);
		// The job outlived the scheduler, and the new one adopted it.
		expect(screen).toMatch(/running 1/);
	}

	await second.press('q');
	await second.waitFor(/Quit this screen\?/);
	await second.press('y');
	expect(await second.waitFor(/jobdeck exited 0/)).toMatch(/jobdeck: a scheduler already runs on \S+: attached to it/);
	expect((await statusOf(sandbox)).scheduler.running).toBe(true);
	await first.waitFor(/● running/);
});

test('detaching from the embedded UI keeps the scheduler in the background: running jobs finish, each recorded once with its exit code', async () => {
	sandbox = createSandbox('jobdeck-detach-e2e-');
	// The jobs end only when the test says so: the detach must happen while all three run, however slow the machine.
	sandbox.script('job.sh', '#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.05; done\nexit "$1"\n');
	terminal = startTmux(shell(sandbox.dir, `start --data-dir ${sandbox.dataDir} --log-dir ${sandbox.logDir}`), {columns: 120, rows: 40});
	await terminal.waitFor(/1 Workers/);
	await sandbox.run(['add-worker', '--skip-ssh-check', '--slots', '3', 'w1']);
	for (const code of ['0', '3', '9']) await sandbox.run(['add-job', './job.sh', code]);
	await terminal.waitFor(/queued 0\s+running 3/);

	await terminal.press('q');
	await terminal.waitFor(/\[b\] background/);
	await terminal.press('b');
	const screen = await terminal.waitFor(/jobdeck exited 0/);
	expect(screen).toMatch(/the scheduler keeps running in the background \(pid \d+/);
	const pid = Number(/in the background \(pid (\d+)/.exec(screen)![1]);
	expect(isAlive(pid)).toBe(true);
	expect((await statusOf(sandbox)).running).toHaveLength(3);
	writeFileSync(join(sandbox.dir, 'release'), '');

	const status = await waitForStatus(sandbox, current => current.finished.length === 3);
	expect(status.finished.map(run => [run.id, run.exitCode, run.outcome]).sort()).toEqual([[1, 0, 'succeeded'], [2, 3, 'failed'], [3, 9, 'failed']]);
	expect(status.queue).toHaveLength(0);
	// Each run is in the history once: none was run twice, none lost.
	const history = readFileSync(join(sandbox.dataDir, 'history.jsonl'), 'utf8').trim().split('\n').map(line => (JSON.parse(line) as {runId: number}).runId);
	expect(history.sort()).toEqual([1, 2, 3]);
	expect(readFileSync(join(sandbox.dataDir, 'scheduler.log'), 'utf8')).toMatch(/finished job 3 on w1 \(JOB_ID 3\): exit 9/);
});
