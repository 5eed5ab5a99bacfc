import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {expect, vi} from 'vitest';
import {attachToScheduler} from '../../source/control/reconnecting-client.js';
import type {Scheduler} from '../../source/core/scheduler.js';
import {Engine} from '../../source/engine/engine.js';
import {App} from '../../source/ui/app.js';
import type {QuitBehaviour} from '../../source/ui/state/ui-state.js';
import type {Sandbox} from '../helpers/jobdeck.js';

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
			} catch {}
		}

		rmSync(dir, {recursive: true, force: true});
	});
}

/** The UI as `jobdeck ui` runs it, on the scheduler process the sandbox started; the sandbox cleans up after itself. */
export async function renderAttachedApp(sandbox: Sandbox, size = {columns: 120, rows: 40}): Promise<AttachedAppHarness> {
	const scheduler = await attachToScheduler(sandbox.dataDir);
	return mount({scheduler}, scheduler, 'leaves', sandbox.dir, size, async () => {
		scheduler.close();
	});
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
				instance.stdin.write(key);
				await new Promise(resolve => setTimeout(resolve, 15));
				// Under vitest, React runs the effects of a keypress's render (a newly focused text
				// field subscribing to input) only when the next update starts, so the next key would
				// reach the old field. An update from here flushes them first, as time does in a terminal.
				instance.rerender(tree);
			}
		},
		async waitForScreenWithout(text, timeout = 5000) {
			await vi.waitFor(
				() => {
					expect(lastFrame()).not.toContain(text);
				},
				{timeout, interval: 20},
			);
		},
		async waitForScreen(text, timeout = 5000) {
			await vi.waitFor(
				() => {
					if (typeof text === 'string') expect(lastFrame()).toContain(text);
					else expect(lastFrame()).toMatch(text);
				},
				{timeout, interval: 20},
			);
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
