import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {act} from 'react';
import {vi} from 'vitest';
import {attachToScheduler} from '../../source/control/reconnecting-client.js';
import type {Scheduler} from '../../source/core/scheduler.js';
import {Engine} from '../../source/engine/engine.js';
import {App} from '../../source/ui/app.js';
import type {QuitBehaviour} from '../../source/ui/state/ui-state.js';
import {defaultWaitMs, waitFor, type Sandbox} from '../helpers/jobdeck.js';

// The real <App> on a real engine in a temporary directory, or attached over
// the control socket to a real scheduler process: no mocks. The fake stdout
// of ink-testing-library has no size, so one is given.

type Harness<Driven> = {
	readonly dir: string;
	readonly quit: ReturnType<typeof vi.fn>;
	lastFrame(): string;
	/** How many frames Ink has drawn so far. */
	frameCount(): number;
	/** Writes keys, one write per entry, as a terminal would send them. */
	press(...keys: string[]): Promise<void>;
	/** Writes keys back to back, nothing run in between: what a busy machine reads of keys typed while it was away. */
	pressAtOnce(...keys: string[]): void;
	/** Waits until the screen shows `text` (or matches it). */
	waitForScreen(text: string | RegExp, timeout?: number): Promise<void>;
	waitForScreenWithout(text: string, timeout?: number): Promise<void>;
	/** Writes an executable `#!/bin/sh` script into the directory and returns its path. */
	script(name: string, body: string): string;
	cleanup(): Promise<void>;
} & Driven;

export type AppHarness = Harness<{readonly engine: Engine}>;
export type AttachedAppHarness = Harness<{readonly scheduler: Scheduler}>;

export const keys = {
	enter: '\r',
	escape: '\u001B',
	tab: '\t',
	shiftTab: '\u001B[Z',
	up: '\u001B[A',
	down: '\u001B[B',
	delete: '\u001B[3~',
	ctrlC: '\u0003',
} as const;

export async function renderApp(size = {columns: 120, rows: 40}): Promise<AppHarness> {
	const dir = mkdtempSync(join(tmpdir(), 'jobdeck-ui-'));
	const engine = await Engine.start({dataDir: join(dir, 'data'), logDir: join(dir, 'logs')});
	return mount({engine}, engine, 'stops', dir, size, async () => {
		const pids = [...(await engine.snapshot()).runningJobs].map(run => run.pid).filter(pid => pid !== undefined);
		await engine.stop();
		for (const pid of pids) {
			try {
				process.kill(-pid, 'SIGKILL');
			} catch {
				// The group is already gone.
			}
		}

		rmSync(dir, {recursive: true, force: true});
	});
}

/** The UI as `jobdeck ui` runs it, on the scheduler process the sandbox started; the sandbox cleans up after itself. */
export async function renderAttachedApp(sandbox: Sandbox, size = {columns: 120, rows: 40}): Promise<AttachedAppHarness> {
	const scheduler = await attachToScheduler(sandbox.dataDir);
	// eslint-disable-next-line @typescript-eslint/require-await -- mount's clean-up is a promise, as other harnesses' need
	return mount({scheduler}, scheduler, 'leaves', sandbox.dir, size, async () => {
		scheduler.close();
	});
}

/**
 * Runs `work` in React's act(), declaring an act environment only meanwhile: outside it, the
 * engine's own updates to the screen are not the test's doing and must not be warned about.
 */
async function inAct(work: () => Promise<void>): Promise<void> {
	const global = globalThis as {IS_REACT_ACT_ENVIRONMENT?: boolean};
	const before = global.IS_REACT_ACT_ENVIRONMENT;
	global.IS_REACT_ACT_ENVIRONMENT = true;
	try {
		await act(work);
	} finally {
		global.IS_REACT_ACT_ENVIRONMENT = before;
	}
}

function mount<Driven>(driven: Driven, scheduler: Scheduler, quitting: QuitBehaviour, dir: string, size: {columns: number; rows: number}, end: () => Promise<void>): Harness<Driven> {
	const quit = vi.fn();
	const tree = <App scheduler={scheduler} onQuit={quit} quitting={quitting} size={size} cwd={dir} theme={{}} />;
	const instance = render(tree);
	// Ink lays out to stdout's width, which ink-testing-library fixes at 100 columns.
	Object.defineProperty(instance.stdout, 'columns', {value: size.columns});
	instance.rerender(tree);
	const lastFrame = (): string => instance.lastFrame() ?? '';
	const harness: Harness<Driven> = {
		...driven,
		dir,
		quit,
		lastFrame,
		frameCount: () => instance.frames.length,
		async press(...sequence) {
			for (const key of sequence) {
				// A text field subscribes to keys in an effect, which React runs some time after the
				// render that focused it: a key in between is lost. That render may have come on its own
				// (a form's error arriving from the engine, which the test just saw on the screen), and on
				// a busy machine its effects may still be pending: an update from here flushes them first.
				instance.rerender(tree);
				// act(): the key's own updates, their render and its effects (a text field taking the new
				// value into its input handler) are all done before the next key, however busy the machine.
				// eslint-disable-next-line @typescript-eslint/require-await -- act() given a promise also flushes what the key's updates queued after it
				await inAct(async () => {
					instance.stdin.write(key);
				});
				// A lone Esc is told from the start of an escape sequence only on the next turn of the event loop.
				await new Promise(resolve => setTimeout(resolve, 15));
			}
		},
		pressAtOnce(...sequence) {
			for (const key of sequence) instance.stdin.write(key);
		},
		async waitForScreenWithout(text, timeout = defaultWaitMs) {
			await waitFor(() => !lastFrame().includes(text), timeout, () => `the screen to stop showing ${JSON.stringify(text)}; it shows:\n${lastFrame()}`);
		},
		async waitForScreen(text, timeout = defaultWaitMs) {
			const shows = () => (typeof text === 'string' ? lastFrame().includes(text) : text.test(lastFrame()));
			await waitFor(shows, timeout, () => `the screen to show ${typeof text === 'string' ? JSON.stringify(text) : String(text)}; it shows:\n${lastFrame()}`);
		},
		script(name, body) {
			const path = join(dir, name);
			writeFileSync(path, `#!/bin/sh\n${body}\n`);
			chmodSync(path, 0o755);
			return path;
		},
		async cleanup() {
			instance.unmount();
			await end();
		},
	};
	return harness;
}
