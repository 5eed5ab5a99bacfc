import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {startTmux, type TmuxSession} from '../helpers/tmux.js';

// The full-screen UI in a real terminal: `jobdeck start` inside tmux, used
// with the keyboard only, as a person would.

const cli = resolve(import.meta.dirname, '../../dist/jobdeck.cjs');
let dir: string;
let terminal: TmuxSession;

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'jobdeck-ui-e2e-'));
	const script = join(dir, 'greet.sh');
	writeFileSync(script, '#!/bin/sh\necho "hello from $WORKER: $1"\nprintf "\\033]0;pwned\\007\\033[2Jafter the clear\\n"\nsleep 1\necho "bye"\n');
	chmodSync(script, 0o755);
	// The shell prints a marker when jobdeck has exited, so the test can see the terminal is back.
	const command = `cd ${dir} && echo shell-before && env -u CI node ${cli} start --data-dir ${dir}/data --log-dir ${dir}/logs; echo "jobdeck exited $?"; sleep 600`;
	terminal = startTmux(`sh -c '${command}'`, {columns: 120, rows: 40});
});

afterAll(() => {
	// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
	terminal?.kill();
	// Jobs are long finished; nothing of theirs is left to kill.
	rmSync(dir, {recursive: true, force: true});
});

test('add a worker and a job with the keyboard, read the output, quit back to the shell', async () => {
	await terminal.waitFor(/1 Workers/);
	expect(terminal.capture()).not.toContain('shell-before');

	await terminal.press('w');
	await terminal.waitFor(/Add workers/);
	await terminal.type('node01');
	await terminal.press('Tab', 'Tab', 'Tab', 'Space');
	await terminal.waitFor(/\[x\] yes/);
	await terminal.press('Enter');
	await terminal.waitFor(/node01\s+idle/);

	await terminal.press('a');
	await terminal.waitFor(/Add a job/);
	await terminal.type('./greet.sh');
	await terminal.press('Tab');
	await terminal.type('"big world"');
	await terminal.press('Enter');
	await terminal.waitFor(/queued job #1/);

	const screen = await terminal.waitFor(/hello from node01: big world/);
	expect(screen).toMatch(/5 Output #1 node01/);
	await terminal.waitFor(/after the clear/);
	await terminal.press('4');
	await terminal.waitFor(/✓ exit 0/);
	expect(terminal.capture()).toMatch(/1 Workers/);

	await terminal.press('q');
	await terminal.waitFor(/Quit jobdeck\?/);
	await terminal.press('y');
	const shell = await terminal.waitFor(/jobdeck exited 0/);
	// The alternate screen is gone: the shell's own lines are back, the UI's are not.
	expect(shell).toContain('shell-before');
	expect(shell).not.toContain('1 Workers');
	expect(readFileSync(join(dir, 'logs', 'job_1.txt'), 'utf8')).toContain('bye');
});
