import {execFileSync} from 'node:child_process';
import {defaultWaitMs} from './jobdeck.js';

// Drives a program in a real terminal: a tmux server of its own (-L), one
// session, keys in, screen text out. Polls the screen rather than sleeping.

export type TmuxSession = {
	/** Sends tmux key names (Enter, Tab, BTab, Escape, C-c) or, with literal, text as typed. */
	sendKeys(keys: string[], options?: {literal?: boolean}): void;
	/** Types text, then waits a moment: a person never types faster than the screen follows. */
	type(text: string): Promise<void>;
	/** Presses keys one at a time, with the same pause. */
	press(...keys: string[]): Promise<void>;
	capture(options?: {colours?: boolean}): string;
	/** Resolves with the screen once it matches; rejects with the last screen after the timeout. */
	waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
	resize(columns: number, rows: number): void;
	/** A tmux format about the pane, such as '#{pane_title}' or '#{alternate_on}'. */
	display(format: string, target?: string): string;
	/** Any other tmux command, on this session's server. */
	command(...args: string[]): string;
	/** Runs `command` in a new window of the same session, driven like the first. */
	openWindow(name: string, command: string): TmuxSession;
	kill(): void;
};

const keyPauseMs = 120;

export function startTmux(command: string, options: {columns: number; rows: number; socket?: string}): TmuxSession {
	const socket = options.socket ?? `jobdeck-e2e-${process.pid}-${Date.now()}`;
	const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {encoding: 'utf8'});
	tmux('new-session', '-d', '-s', 'main', '-x', String(options.columns), '-y', String(options.rows), command);
	// Esc must arrive at once, as it does with `set -sg escape-time 10`.
	tmux('set-option', '-s', 'escape-time', '10');
	// By its window id: `main` alone means whichever window is current, which changes as windows open.
	return driveWindow(tmux, tmux('display-message', '-p', '-t', 'main', '#{window_id}').trim());
}

function driveWindow(tmux: (...args: string[]) => string, target: string): TmuxSession {
	const pause = async (): Promise<void> => new Promise(resolve => setTimeout(resolve, keyPauseMs));
	const session: TmuxSession = {
		sendKeys(keys, {literal = false} = {}) {
			tmux('send-keys', '-t', target, ...(literal ? ['-l'] : []), ...keys);
		},
		async type(text) {
			session.sendKeys([text], {literal: true});
			await pause();
		},
		async press(...keys) {
			for (const key of keys) {
				session.sendKeys([key]);
				await pause();
			}
		},
		capture({colours = false} = {}) {
			return tmux('capture-pane', '-t', target, '-p', ...(colours ? ['-e'] : []));
		},
		async waitFor(pattern, timeoutMs = defaultWaitMs) {
			const deadline = Date.now() + timeoutMs;
			let screen = '';
			while (Date.now() < deadline) {
				try {
					screen = session.capture();
				} catch {
					// The session ended; the last screen is the best we have.
				}

				if (pattern.test(screen)) return screen;
				await new Promise(resolve => setTimeout(resolve, 50));
			}

			throw new Error(`the screen never matched ${pattern}; it shows:\n${screen}`);
		},
		resize(columns, rows) {
			tmux('resize-window', '-t', target, '-x', String(columns), '-y', String(rows));
		},
		display(format, displayed = target) {
			return tmux('display-message', '-p', '-t', displayed, format).replace(/\n$/, '');
		},
		command: tmux,
		openWindow(name, command) {
			return driveWindow(tmux, tmux('new-window', '-d', '-P', '-F', '#{window_id}', '-t', 'main', '-n', name, command).trim());
		},
		kill() {
			try {
				tmux('kill-server');
			} catch {
				// No server left to kill.
			}
		},
	};
	return session;
}
