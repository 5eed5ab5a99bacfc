import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {execa} from 'execa';
import {afterEach, beforeEach, expect, test} from 'vitest';
import {cliPath, createSandbox, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';
import {startTmux, type TmuxSession} from '../helpers/tmux.js';

// `jobdeck logs ID` on a real terminal (tmux) shows a job's output with its control sequences made
// harmless, as the UI's output pane does; into a pipe it stays byte for byte what the job wrote.

const esc = '\u001B';
const bel = '\u0007';
const payload = Buffer.from([
	'BEFORE-LINE',
	`TITLE[ ${esc}]0;PWNED-TITLE${bel} ]OK`,
	`CLEAR[ ${esc}[2J${esc}[3J${esc}[H ]OK`,
	`QUERY[ ${esc}[6n${esc}[c ]OK`,
	`C1[ \u009B2J\u009D0;PWNED-C1\u009C ]OK`,
	`COLOUR[ ${esc}[31mred${esc}[0m ]OK`,
	'progress 10%\rPROGRESS[ done ]OK',
	'ünïcode ✓',
	'',
].join('\n'));

let sandbox: Sandbox;
let terminal: TmuxSession | undefined;

beforeEach(async () => {
	sandbox = createSandbox();
	writeFileSync(join(sandbox.dir, 'payload.bin'), payload);
	sandbox.script('hostile.sh', '#!/bin/sh\ncat payload.bin\n');
	await sandbox.startScheduler();
	await sandbox.run(['add-worker', '--skip-ssh-check', 'w1']);
});

afterEach(async () => {
	terminal?.kill();
	terminal = undefined;
	await sandbox.cleanup();
});

async function finishedJob(): Promise<{id: number; logFile: string}> {
	const added = await sandbox.run(['add-job', './hostile.sh']);
	const id = Number(added.stdout.trim());
	const done = await waitForStatus(sandbox, status => status.finished.some(run => run.id === id));
	return done.finished.find(run => run.id === id)!;
}

test('on a terminal: no title, no clear, no answer to a query; the text around them is all there', async () => {
	const {id, logFile} = await finishedJob();
	expect(readFileSync(logFile)).toEqual(payload);
	// After logs, `read` takes what the terminal typed back: a leaked cursor or device query would show there.
	const command = `cd ${sandbox.dir} && JOBDECK_DATA_DIR=${sandbox.dataDir} node ${cliPath} logs ${id}; echo "EXIT[$?]"; read answer; echo "ANSWER[$answer]"; sleep 600`;
	terminal = startTmux(`sh -c '${command}'`, {columns: 80, rows: 24});
	terminal.command('set-option', '-g', 'allow-rename', 'on');
	const titleBefore = terminal.display('#{pane_title}');
	await terminal.waitFor(/EXIT\[0\]/, 30_000);
	terminal.sendKeys(['Enter']);
	const screen = await terminal.waitFor(/ANSWER\[/, 30_000);
	const lines = screen.split('\n');
	// Nothing cleared the screen or moved the cursor: the lines come one under the other from the top.
	expect(lines.slice(0, 10)).toEqual([
		'BEFORE-LINE',
		'TITLE[  ]OK',
		'CLEAR[  ]OK',
		'QUERY[  ]OK',
		'C1[  ]OK',
		'COLOUR[ red ]OK',
		// The carriage return starts the line over, as the terminal does with it.
		'PROGRESS[ done ]OK',
		'ünïcode ✓',
		'EXIT[0]',
		'',
	]);
	expect(screen).toContain('ANSWER[]');
	expect(screen).not.toMatch(/PWNED|\^\[/);
	expect(terminal.display('#{pane_title}')).toBe(titleBefore);
	expect(terminal.display('#{window_name}')).not.toMatch(/PWNED/);
});

test('the detectors work: the same log printed raw in the same kind of pane is retitled, cleared and answered', async () => {
	const {logFile} = await finishedJob();
	const command = `cat ${logFile}; echo "EXIT[$?]"; read answer; echo "ANSWER[$answer]" | od -c | head -2; sleep 600`;
	terminal = startTmux(`sh -c '${command}'`, {columns: 80, rows: 24});
	terminal.command('set-option', '-g', 'allow-rename', 'on');
	await terminal.waitFor(/EXIT\[0\]/, 30_000);
	terminal.sendKeys(['Enter']);
	const screen = await terminal.waitFor(/A {3}N {3}S/, 30_000);
	expect(terminal.display('#{pane_title}')).toMatch(/PWNED/);
	expect(screen).not.toContain('BEFORE-LINE');
	// The terminal's answer to the cursor query (ESC [ row ; col R) was typed into the pane.
	expect(screen).toMatch(/033\s+\[\s+\d/);
});

test('into a pipe: byte for byte what the job wrote', async () => {
	const {id} = await finishedJob();
	const piped = await execa('node', [cliPath, 'logs', String(id)], {cwd: sandbox.dir, env: {JOBDECK_DATA_DIR: sandbox.dataDir}, encoding: 'buffer', stripFinalNewline: false});
	expect(Buffer.from(piped.stdout)).toEqual(payload);
	expect(piped.stderr.length).toBe(0);
});
