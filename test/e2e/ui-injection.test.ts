import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {execa} from 'execa';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {cliPath, killJobsStartedIn} from '../helpers/jobdeck.js';
import {startTmux, type TmuxSession} from '../helpers/tmux.js';

// A job's output is whatever the job prints, and the UI shows it inside a
// pane of a full-screen program that stays open for days. Here a job prints
// every kind of terminal control there is while the UI shows its output: the
// window title, the bell, the alternate screen, the frame and the text around
// the controls must come through as if the controls had never been there.

const columns = 120;
const rows = 70;
const esc = '\u001B';
const bel = '\u0007';
const st = `${esc}\\`;

/** One line of output each: harmless text around one control, and how that line must look in the pane. */
const payload: Array<{bytes: Buffer; shows: RegExp}> = [
	line('OSC-TITLE[ ', `${esc}]0;PWNED-OSC0${bel}`, ' ]OK'),
	line('OSC2-ST[ ', `${esc}]2;PWNED-OSC2${st}`, ' ]OK'),
	line('CLEAR[ ', `${esc}[2J${esc}[3J`, ' ]OK'),
	line('HOME[ ', `${esc}[H${esc}[10;40H`, ' ]OK'),
	line('CURSOR-UP[ ', `${esc}[20A${esc}[5D`, ' ]OK'),
	line('ALT-SCREEN-OFF[ ', `${esc}[?1049l${esc}[?47l`, ' ]OK'),
	line('BELL[ ', bel, ' ]OK'),
	line('C1-CSI[ ', '\u009B2J\u009BH', ' ]OK'),
	line('C1-OSC[ ', '\u009D0;PWNED-C1\u009C', ' ]OK'),
	{bytes: Buffer.concat([Buffer.from('RAW-C1[ '), Buffer.from([0x9B]), Buffer.from('2J ]OK\n')]), shows: /RAW-C1\[ \uFFFD2J \]OK/},
	{bytes: Buffer.concat([Buffer.from('INVALID-UTF8[ '), Buffer.from([0xFF, 0xFE, 0xC0, 0x80, 0xE2, 0x82]), Buffer.from(' ]OK\n')]), shows: /INVALID-UTF8\[ \uFFFD+ \]OK/},
	line('TMUX-PASSTHROUGH[ ', `${esc}Ptmux;${esc}${esc}]0;PWNED-DCS${bel}${st}`, ' ]OK'),
	// screen's and tmux's own window-name string: with its ESCs gone it is plain text, shown as such.
	line('WINDOW-NAME[ ', `${esc}kPWNED-NAME${st}`, ' ]OK', /WINDOW-NAME\[ PWNED-NAME \]OK/),
	line('QUERIES[ ', `${esc}[6n${esc}[c${esc}]11;?${bel}${esc}[>q`, ' ]OK'),
	line('SCROLL-REGION[ ', `${esc}[5;10r`, ' ]OK'),
	line('FULL-RESET[ ', `${esc}c`, ' ]OK'),
	line('CLIPBOARD[ ', `${esc}]52;c;cHduZWQ=${bel}`, ' ]OK'),
	line('HYPERLINK[ ', `${esc}]8;;https://evil.example/${st}link${esc}]8;;${st}`, ' ]OK', /HYPERLINK\[ link \]OK/),
	line('COLOURS[ ', `${esc}[31;1;5mred${esc}[0m${esc}[38;5;196m`, ' ]OK', /COLOURS\[ red \]OK/),
	line('BACKSPACE[ ', 'xyz\b\b\b', ' ]OK', /BACKSPACE\[ xyz \]OK/),
	line('progress 10%', '\r', 'CARRIAGE-RETURN[ ]OK', /CARRIAGE-RETURN\[ \]OK/),
	line('LONG[', 'x'.repeat(5000), ']END', /LONG\[x+…│/),
	line('LAST[ ', `${esc}]0;PWNED-LAST${bel}${esc}[2J`, ' ]OK'),
];

function line(before: string, control: string, after: string, shows?: RegExp): {bytes: Buffer; shows: RegExp} {
	const escaped = (text: string) => text.replaceAll(/[[\]().*+?^$|\\]/g, '\\$&');
	return {bytes: Buffer.from(`${before}${control}${after}\n`, 'utf8'), shows: shows ?? new RegExp(`${escaped(before)}${escaped(after)}`)};
}

let dir: string;
let terminal: TmuxSession;
let titleBefore: string;

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'jobdeck-ui-injection-'));
	writeFileSync(join(dir, 'payload.bin'), Buffer.concat(payload.map(entry => entry.bytes)));
	writeFileSync(join(dir, 'hostile.sh'), '#!/bin/sh\ncat payload.bin\nwhile [ ! -e release ]; do sleep 0.05; done\n', {mode: 0o755});
	const command = `cd ${dir} && env -u CI node ${cliPath} start --data-dir ${dir}/data --log-dir ${dir}/logs; echo "jobdeck exited $?"; sleep 600`;
	terminal = startTmux(`sh -c '${command}'`, {columns, rows});
	// Renaming windows from inside is off without a config; turn it on so that the test can see it not happen.
	terminal.command('set-option', '-g', 'allow-rename', 'on');
	titleBefore = terminal.display('#{pane_title}');
});

afterAll(() => {
	// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
	terminal?.kill();
	if (dir) {
		killJobsStartedIn(dir);
		// The UI may still be saving its state as tmux goes.
		rmSync(dir, {recursive: true, force: true, maxRetries: 10, retryDelay: 100});
	}
});

/** `jobdeck COMMAND --data-dir … ARGS…` from another shell; jobdeck's own flags go before a job's script. */
async function jobdeck(command: string, ...args: string[]): Promise<void> {
	const result = await execa('node', [cliPath, command, '--data-dir', join(dir, 'data'), ...args], {cwd: dir, reject: false});
	expect(result.exitCode, result.stderr).toBe(0);
}

const border = /[│║╭╮╰╯╔╗╚╝]/;

/** The columns where the left panes end and the right ones begin, from a screen known to be whole. */
function junctionOf(screen: string): number {
	const topBorder = screen.split('\n').find(row => row.includes('╮╭'))!;
	return topBorder.indexOf('╮╭');
}

/** The frame as jobdeck drew it: the header on top, two columns of panes with their borders, the footer below, nothing else. */
function expectWholeFrame(screen: string, junction: number): void {
	const lines = screen.replace(/\n$/, '').split('\n');
	expect(lines).toHaveLength(rows);
	expect(lines[0]).toMatch(/^ jobdeck ● running {2}\//);
	expect(lines[1]).toMatch(/^ workers \d+ idle · \d+ busy · \d+ draining/);
	const first = lines.findIndex(row => row.startsWith('╭─ 1 Workers'));
	expect(first).toBe(3);
	// jobdeck draws rows - 1 rows (a full last row would scroll some terminals); the last one stays empty.
	expect(lines.at(-1)).toBe('');
	const footer = lines.length - 2;
	expect(lines[footer]).toMatch(/^ {2}\S.*q {2}quit/);
	for (let index = first; index < footer; index++) {
		const row = lines[index]!;
		expect(`${index}: ${row[0]}${row[junction]}${row[junction + 1]}`).toMatch(new RegExp(`^${index}: ${border.source}{3}$`));
		// The right border closes every row: nothing pushed it out or wrapped the row.
		expect(`${index}: ${row.at(-1)}`).toMatch(new RegExp(`^${index}: ${border.source}$`));
		// Job output stays in the right-hand panes.
		expect(`${index}: ${row.slice(0, junction)}`).not.toMatch(/\]OK|PWNED/);
	}

	for (const title of ['1 Workers', '3 Running', '5 Output']) expect(screen).toContain(title);
	expect(screen).toMatch(/2 Queue|4 History/);
}

function expectNothingEscaped(): void {
	expect(terminal.display('#{pane_title}')).toBe(titleBefore);
	expect(terminal.display('#{window_name}')).not.toMatch(/PWNED/);
	expect(terminal.display('#{alternate_on}')).toBe('1');
	expect(terminal.display('#{window_bell_flag}')).toBe('0');
}

function expectPayloadShown(screen: string): void {
	for (const {shows} of payload) expect(screen).toMatch(shows);
	expect(screen.replace('PWNED-NAME', '')).not.toMatch(/PWNED|cHduZWQ|evil\.example/);
}

test('a job that prints terminal controls changes nothing but its own pane\'s text', async () => {
	// The detectors work: the same bytes, printed raw in a pane of the same tmux server, retitle it, rename it and ring.
	terminal.command('new-session', '-d', '-s', 'canary', '-x', '80', '-y', '24', `cat '${join(dir, 'payload.bin')}'; sleep 600`);
	const canary = await waitForCanary();
	expect(canary).toMatch(/^PWNED.*\|PWNED-NAME\|1$/);

	await terminal.waitFor(/1 Workers/);
	await jobdeck('add-worker', '--skip-ssh-check', 'w1');
	const idle = await terminal.waitFor(/w1\s+idle/);
	const junction = junctionOf(idle);
	expectWholeFrame(idle, junction);

	await jobdeck('add-job', './hostile.sh');
	const running = await terminal.waitFor(/5 Output #1 w1[\s\S]*LAST\[ {2}\]OK/);
	expectNothingEscaped();
	expectWholeFrame(running, junction);
	expectPayloadShown(running);
	// The running pane shows the last line of output, cleaned the same way.
	await terminal.waitFor(/#1\s+w1\s+\d+s LAST\[ {2}\]OK/);

	// Finished, from the history pane: the log read again from its start.
	writeFileSync(join(dir, 'release'), '');
	await terminal.press('4');
	const finished = await terminal.waitFor(/5 Output #1 w1 ✓ exit 0[\s\S]*LAST\[ {2}\]OK/);
	expectNothingEscaped();
	expectWholeFrame(finished, junction);
	expectPayloadShown(finished);

	await terminal.press('q');
	await terminal.waitFor(/Quit jobdeck\?/);
	await terminal.press('y');
	await terminal.waitFor(/jobdeck exited 0/);
	expect(terminal.display('#{pane_title}')).toBe(titleBefore);
	expect(terminal.display('#{alternate_on}')).toBe('0');
});

async function waitForCanary(): Promise<string> {
	const deadline = Date.now() + 30_000;
	let seen = '';
	while (Date.now() < deadline) {
		seen = terminal.display('#{pane_title}|#{window_name}|#{window_bell_flag}', 'canary');
		if (seen.includes('PWNED-NAME')) return seen;
		await new Promise(resolve => setTimeout(resolve, 50));
	}

	return seen;
}
