// First, before anything loads react. No JSX in this file: it would import react/jsx-runtime ahead of it.
import {restoreNodeEnv} from './production-react.js';
import {createElement} from 'react';
import {render, type Instance} from 'ink';
import type {Scheduler} from '../core/scheduler.js';
import {App} from './app.js';
import type {QuitBehaviour} from './state/ui-state.js';

// Every import above has run: react has chosen its build.
restoreNodeEnv();

export type RunUiOptions = {
	readonly scheduler: Scheduler;
	readonly dataDir: string;
	readonly logDir: string;
	/** What quitting does to the scheduler (default: stops it, which the caller then does). */
	readonly quitting?: QuitBehaviour;
	/** Shown in the footer when the screen opens. */
	readonly greeting?: string;
};

/** How the user left: `detach` when they chose to keep the scheduler running in the background. */
export type UiExit = {readonly detach: boolean};

// Ink 6 has no alternate-screen option: enter it by hand, only on a
// terminal, and make sure every way out leaves it again: the user quitting,
// a render error, an exception anywhere, or a signal.
const enterAlternateScreen = '\u001B[?1049h\u001B[H';
const leaveAlternateScreen = '\u001B[?25h\u001B[?1049l';
const quitSignals = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;

function ignoreWriteError(): void {
	// A terminal that went away (EPIPE, EIO) fails every write: the UI ends on its signals, not on an unhandled error.
}

/**
 * Shows the full-screen UI on the terminal until the user quits (or a
 * signal asks to). It leaves the scheduler running: the caller stops it,
 * after the terminal is back to what it was, so that whatever it prints can
 * be read.
 */
export async function runUi({scheduler, quitting, greeting}: RunUiOptions): Promise<UiExit> {
	const {stdout} = process;
	// isTTY is declared `true` but is undefined when stdout is not a terminal.
	const fullScreen = (stdout.isTTY as boolean | undefined) === true;
	let restored = false;
	const restore = (): void => {
		if (restored || !fullScreen) return;
		restored = true;
		stdout.write(leaveAlternateScreen);
	};

	// When the terminal goes away (tmux kill-session, a closed ssh connection) writes fail with EIO:
	// there is nobody left to show anything to, and the scheduler must still stop cleanly.
	stdout.on('error', ignoreWriteError);
	if (fullScreen) stdout.write(enterAlternateScreen);
	process.on('exit', restore);
	let instance: Instance | undefined;
	let quit: (detach?: boolean) => void = () => undefined;
	let detach = false;
	// Listening for them also stops Ink's signal-exit from killing the process before the caller has stopped the scheduler.
	const onSignal = (): void => {
		quit();
	};

	for (const signal of quitSignals) process.on(signal, onSignal);
	try {
		await new Promise<void>((resolve, reject) => {
			quit = (detachIt = false) => {
				detach = detachIt;
				instance?.unmount();
				resolve();
			};

			instance = render(createElement(App, {scheduler, quitting, greeting, onQuit: detachIt => quit(detachIt)}), {
				exitOnCtrlC: false,
				patchConsole: false,
				// Each source of redraws coalesces its own changes (the output pane to 20 a second); this bounds them together.
				// At 20 (50 ms), a frame asked for within 50 ms of the last one was put off by up to 50 ms more, and lines
				// a job wrote steadily reached the output pane up to 140 ms late.
				maxFps: 30,
				incrementalRendering: false,
			});
			instance.waitUntilExit().then(() => {
				resolve();
			}, reject);
		});
	} finally {
		for (const signal of quitSignals) process.off(signal, onSignal);
		instance?.unmount();
		restore();
		process.off('exit', restore);
	}

	return {detach};
}
