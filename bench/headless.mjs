// Shared by the benchmarks: a real headless scheduler on a throwaway data dir,
// driven through the CLI, with its JSON event lines parsed as they come.
import {execFile, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {lineReader} from '../dist/core/line-reader.js';

export const cli = resolve(import.meta.dirname, '../dist/jobdeck.cjs');

export function makeSandbox() {
	const dir = mkdtempSync(join(tmpdir(), 'jobdeck-bench-'));
	return {dir, dataDir: join(dir, '.data'), logDir: join(dir, 'logs'), remove: () => rmSync(dir, {recursive: true, force: true})};
}

/**
 * Runs a client command; resolves to its stdout. Never synchronously: the
 * scheduler's event lines must keep being read meanwhile, or it blocks on a
 * full stdout pipe while the client waits for it. The data dir goes right
 * after the command name: `add-job` passes everything after its script on to the job.
 */
export async function jobdeck(sandbox, [command, ...args]) {
	return new Promise((resolveOutput, reject) => {
		const child = execFile('node', [cli, command, '--data-dir', sandbox.dataDir, ...args], {cwd: sandbox.dir, encoding: 'utf8', maxBuffer: 1 << 30}, (error, stdout) => {
			// eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- it is an Error: its type, an Omit of ExecException, does not say so
			if (error) reject(error);
			else resolveOutput(stdout);
		});
		child.stderr.pipe(process.stderr);
	});
}

/**
 * Starts `jobdeck start --headless --json` (with `args` after it). `onEvent` sees every event; the
 * result resolves `started` with the time the scheduler said it was up.
 */
export function startScheduler(sandbox, {nodeArgs = [], onEvent = () => undefined, args = []} = {}) {
	// JOBDECK_BENCH_PROFILE=DIR: a CPU profile of every scheduler (bench/profile-summary.mjs reads them).
	if (process.env.JOBDECK_BENCH_PROFILE) nodeArgs = [...nodeArgs, '--cpu-prof', `--cpu-prof-dir=${resolve(process.env.JOBDECK_BENCH_PROFILE)}`];
	const spawnedAt = Date.now();
	const child = spawn('node', [...nodeArgs, cli, 'start', '--headless', '--json', '--data-dir', sandbox.dataDir, '--log-dir', sandbox.logDir, ...args], {cwd: sandbox.dir, stdio: ['ignore', 'pipe', 'inherit']});
	let onStarted;
	const started = new Promise(resolveStarted => {
		onStarted = resolveStarted;
	});
	// A line may be megabytes (100,000 jobs queued at once): the scheduler's own line reader joins it once.
	child.stdout.on('data', lineReader(line => {
		const event = JSON.parse(line);
		if (event.type === 'started') onStarted(event.at);
		onEvent(event);
	}));
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
			await jobdeck(sandbox, ['stop']);
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
