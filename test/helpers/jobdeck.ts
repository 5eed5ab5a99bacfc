import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {execa, type ResultPromise} from 'execa';
import type {SchedulerEvent} from '../../source/core/scheduler.js';

// Test helpers that drive the real thing: the built `jobdeck` command line
// (dist/jobdeck.cjs, built by `npm test` before vitest runs) and a real headless
// scheduler process, in a temporary directory.

export const cliPath = resolve(import.meta.dirname, '../../dist/jobdeck.cjs');

export type CommandResult = {exitCode: number; stdout: string; stderr: string};

export type Sandbox = {
	/** The temporary directory: jobs run here, `.data` and `logs` live here. */
	dir: string;
	dataDir: string;
	logDir: string;
	/** Runs `jobdeck ARGS…` in the sandbox (never throws; look at exitCode). */
	run(args: string[], options?: {cwd?: string; env?: Record<string, string>; input?: string}): Promise<CommandResult>;
	/** Starts `jobdeck start --headless` and waits until it answers; `env` is added to the scheduler's (and so its jobs') environment. */
	startScheduler(extraArgs?: string[], options?: {env?: Record<string, string>}): Promise<SchedulerProcess>;
	/** Writes an executable file into the sandbox and returns its path. */
	script(name: string, text: string): string;
	/** Stops every scheduler started here, kills leftover job process groups, removes the directory. */
	cleanup(): Promise<void>;
};

export type SchedulerProcess = {
	process: ResultPromise;
	output(): string;
	/** Resolves when the scheduler's output has a line matching `pattern`. */
	waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
	/** With `--json`: the events printed so far, each with the `at` the scheduler gave it. */
	events(): SchedulerEvent[];
	/** With `--json`: resolves with the events printed so far once `predicate` holds for them. */
	waitForEvents<T>(predicate: (events: SchedulerEvent[]) => T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
	stop(): Promise<void>;
};

export type EventOf<T extends SchedulerEvent['type']> = Extract<SchedulerEvent, {type: T}>;

/** A type guard for `events().find(…)`: an event of this type, about the worker `name` when one is given. */
export function eventIs<T extends SchedulerEvent['type']>(type: T, name?: string): (event: SchedulerEvent) => event is EventOf<T> {
	return (event): event is EventOf<T> => event.type === type && (name === undefined || ('name' in event && event.name === name));
}

export function createSandbox(prefix = 'jobdeck-test-'): Sandbox {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	const dataDir = join(dir, '.data');
	const logDir = join(dir, 'logs');
	const schedulers: SchedulerProcess[] = [];

	const run: Sandbox['run'] = async (args, options = {}) => {
		const result = await execa('node', [cliPath, ...args], {
			cwd: options.cwd ?? dir,
			env: {JOBDECK_DATA_DIR: dataDir, ...options.env},
			reject: false,
			input: options.input,
			stripFinalNewline: false,
			stdin: options.input === undefined ? 'ignore' : undefined,
			timeout: 60_000,
		});
		return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr};
	};

	return {
		dir,
		dataDir,
		logDir,
		run,
		async startScheduler(extraArgs = [], options = {}) {
			const child = execa('node', [cliPath, 'start', '--headless', '--data-dir', dataDir, '--log-dir', logDir, ...extraArgs], {
				cwd: dir,
				env: options.env,
				reject: false,
				stdin: 'ignore',
				all: true,
			});
			let output = '';
			child.all.setEncoding('utf8');
			child.all.on('data', (chunk: string) => {
				output += chunk;
			});
			const scheduler: SchedulerProcess = {
				process: child,
				output: () => output,
				async waitForOutput(pattern, timeoutMs = defaultWaitMs) {
					return waitFor(() => output.split('\n').find(line => pattern.test(line)), timeoutMs, () => `scheduler output matching ${pattern}; got:\n${output}`);
				},
				events() {
					return output.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as SchedulerEvent);
				},
				async waitForEvents(predicate, what, timeoutMs = defaultWaitMs) {
					return waitFor(() => predicate(scheduler.events()), timeoutMs, () => `${what}; the scheduler printed:\n${output}`);
				},
				async stop() {
					if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
					await child;
				},
			};
			schedulers.push(scheduler);
			await scheduler.waitForOutput(/scheduler running on|"type":"started"/);
			return scheduler;
		},
		script(name, text) {
			const path = join(dir, name);
			mkdirSync(dirname(path), {recursive: true});
			writeFileSync(path, text);
			chmodSync(path, 0o755);
			return path;
		},
		async cleanup() {
			for (const scheduler of schedulers) await scheduler.stop();
			killJobsStartedIn(dir);
			rmSync(dir, {recursive: true, force: true});
		},
	};
}

/**
 * How long a wait for something that takes a moment may last: room for a
 * machine ten times slower than a slow day here. A wait that needs longer
 * (a whole batch of jobs) says so with its own deadline.
 */
export const defaultWaitMs = 30_000;

/**
 * Polls `probe` until it returns something other than undefined/false. When
 * the deadline passes, the error says what was waited for and, `what` being
 * a function, what was seen last (it is called then, not before).
 */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = defaultWaitMs, what: string | (() => string) = 'condition'): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined && value !== false) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
		await new Promise(resolveWait => {
			setTimeout(resolveWait, 25);
		});
	}
}

/** Jobs are detached on purpose (they outlive the scheduler): a test must end the ones it started. */
export function killJobsStartedIn(dir: string): void {
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
			// The node starter's `sh` wrapper, or the perl starter's, which names itself `jobdeck-job EXIT-FILE`.
			const wrapper = (argv[3] === 'jobdeck-job' && argv[4]?.startsWith(dir) === true) || argv[0]!.startsWith(`jobdeck-job ${dir}`);
			if (!wrapper) continue;
			// Each job leads its own process group, the wrapper's child's; a wrapper of before ran it in its own.
			for (const child of readFileSync(`/proc/${entry}/task/${entry}/children`, 'utf8').split(' ').filter(Boolean)) {
				try {
					process.kill(-Number(child), 'SIGKILL');
				} catch {
					// The group is already gone.
				}
			}

			process.kill(-Number(entry), 'SIGKILL');
		} catch {
			// Gone while the list was read, or already gone.
		}
	}
}

export type StatusView = {
	scheduler: {running: boolean; paused: boolean};
	workers: Array<{name: string; state: string; slots: number; env: Record<string, string>; runningJobs: number[]; jobsDone: number; jobsFailed: number}>;
	queue: Array<{id: number; script: string; args: string[]; env: Record<string, string>; cwd: string}>;
	running: Array<{id: number; worker: string; runId: number; pid?: number; logFile: string; startedAt: number}>;
	finished: Array<{id: number; worker: string; runId: number; exitCode: number | null; signal: string | null; outcome: string; startedAt: number; endedAt: number; logFile: string; args: string[]}>;
};

export async function statusOf(sandbox: Sandbox): Promise<StatusView> {
	const result = await sandbox.run(['status', '--json']);
	if (result.exitCode !== 0) throw new Error(`status failed: ${result.stderr}`);
	return JSON.parse(result.stdout) as StatusView;
}

/** Polls `status --json` until `predicate` holds, and returns that status. */
export async function waitForStatus(sandbox: Sandbox, predicate: (status: StatusView) => boolean, timeoutMs = defaultWaitMs): Promise<StatusView> {
	let last: StatusView | undefined;
	try {
		return await waitFor(async () => {
			last = await statusOf(sandbox);
			return predicate(last) ? last : undefined;
		}, timeoutMs, 'status');
	} catch (error) {
		throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last)}`);
	}
}

/** Adds a job and returns its id (add-job prints the ids, one a line). */
export async function addJob(sandbox: Sandbox, args: string[], options?: {cwd?: string}): Promise<number> {
	const result = await sandbox.run(['add-job', ...args], options);
	if (result.exitCode !== 0) throw new Error(`add-job ${args.join(' ')} failed: ${result.stderr}`);
	return Number(result.stdout.trim().split('\n').at(-1));
}

export function isAlive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return !/^\S+ \(.*\) [ZX]/.test(stat);
	} catch {
		return false;
	}
}
