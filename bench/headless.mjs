// Shared by the benchmarks: a real headless scheduler on a throwaway data dir,
// driven through the CLI, with its JSON event lines parsed as they come.
import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

export const cli = resolve(import.meta.dirname, '../dist/cli.js');

export function makeSandbox() {
	const dir = mkdtempSync(join(tmpdir(), 'jobdeck-bench-'));
	return {dir, dataDir: join(dir, '.data'), logDir: join(dir, 'logs'), remove: () => rmSync(dir, {recursive: true, force: true})};
}

/** Runs a client command; returns its stdout. */
export function jobdeck(sandbox, args, options = {}) {
	return execFileSync('node', [cli, ...args, '--data-dir', sandbox.dataDir], {cwd: sandbox.dir, encoding: 'utf8', maxBuffer: 1 << 30, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'], ...options});
}

/**
 * Starts `jobdeck start --headless --json`. `onEvent` sees every event; the
 * result resolves `started` with the time the scheduler said it was up.
 */
export function startScheduler(sandbox, {nodeArgs = [], onEvent = () => undefined} = {}) {
	const spawnedAt = Date.now();
	const child = spawn('node', [...nodeArgs, cli, 'start', '--headless', '--json', '--data-dir', sandbox.dataDir, '--log-dir', sandbox.logDir], {cwd: sandbox.dir, stdio: ['ignore', 'pipe', 'inherit']});
	let partial = '';
	let onStarted;
	const started = new Promise(resolveStarted => {
		onStarted = resolveStarted;
	});
	child.stdout.setEncoding('utf8');
	child.stdout.on('data', chunk => {
		const lines = (partial + chunk).split('\n');
		partial = lines.pop();
		for (const line of lines) {
			const event = JSON.parse(line);
			if (event.type === 'started') onStarted(event.at);
			onEvent(event);
		}
	});
	const exited = new Promise(resolveExit => {
		child.on('exit', resolveExit);
	});
	return {
		child,
		spawnedAt,
		started,
		rssMegabytes() {
			const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
			return Number(match[1]) / 1024;
		},
		async stop() {
			jobdeck(sandbox, ['stop']);
			await exited;
		},
	};
}

/** Counts job-finished events and resolves when `count` have come; `at` of the last one. */
export function finishCounter() {
	let finished = 0;
	let target = Number.POSITIVE_INFINITY;
	let lastAt = 0;
	let resolveDone;
	const done = new Promise(resolveCount => {
		resolveDone = resolveCount;
	});
	return {
		onEvent(event) {
			if (event.type !== 'job-finished') return;
			finished++;
			lastAt = event.at;
			if (finished >= target) resolveDone(lastAt);
		},
		async waitFor(count) {
			target = count;
			if (finished >= target) return lastAt;
			return done;
		},
	};
}

export function median(values) {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)];
}

export const numbers = count => Array.from({length: count}, (_, index) => String(index + 1));
