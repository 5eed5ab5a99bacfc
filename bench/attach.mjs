#!/usr/bin/env node
// Attach benchmark: `jobdeck ui` on a running headless scheduler holding
// 1,000 workers and 100,000 queued jobs, in a real terminal (tmux). It
// measures the time from launch to the first frame showing the queue, and the
// UI process's memory, each next to the same figure for a scheduler with the
// same workers and an empty queue, measured in the same run (the UI asks only
// for the rows it shows, so the two should be close); and how long a change made in one screen takes to
// show in a second screen on the same scheduler (draining a worker), next to the time the first
// screen takes to show it itself. Idle CPU is measured in the first seconds
// after attaching, when V8 shrinks the heap the start-up grew (once), and
// settled, from --settle-seconds after attaching on.
//
//   node bench/attach.mjs [--workers 1000] [--jobs 100000] [--idle-seconds 5] [--settle-seconds 40]
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {median} from './headless.mjs';
import {cpuSeconds, idleFigures, sleep} from './process-figures.mjs';
import {tmuxServer} from './terminal.mjs';

const {values} = parseArgs({options: {
	workers: {type: 'string', default: '1000'},
	jobs: {type: 'string', default: '100000'},
	'idle-seconds': {type: 'string', default: '5'},
	'settle-seconds': {type: 'string', default: '40'},
}});
const cli = resolve(import.meta.dirname, '../dist/jobdeck.cjs');
const {tmux, screen: screenOf, waitForScreen, programPid, kill: killTmux} = tmuxServer('jobdeck-attach-bench');
const dir = mkdtempSync(join(tmpdir(), 'jobdeck-attach-bench-'));

/** A headless scheduler on its own data dir, paused (so the jobs stay queued), with these workers and jobs. */
function schedulerWith(name, workers, jobs) {
	const dataDir = join(dir, name);
	spawnSync('sh', ['-c', `node ${cli} start --headless --data-dir ${dataDir} --log-dir ${dir}/logs > ${dir}/${name}.log 2>&1 &`]);
	// jobdeck's own flags before SCRIPT: what follows it belongs to the script.
	const jobdeck = (command, ...args) => execFileSync('node', [cli, command, '--data-dir', dataDir, ...args], {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
	for (let attempt = 0; ; attempt++) {
		try {
			jobdeck('pause');
			break;
		} catch (error) {
			if (attempt > 100) throw error;
			spawnSync('sleep', ['0.1']);
		}
	}

	if (workers > 0) jobdeck('add-worker', '--skip-ssh-check', ...Array.from({length: workers}, (_, index) => `worker-${index + 1}`));
	if (jobs > 0) {
		writeFileSync(join(dir, 'list.txt'), Array.from({length: jobs}, (_, index) => `input-${index + 1}.txt`).join('\n') + '\n');
		jobdeck('add-job', '--from-file', 'list.txt', '/bin/true');
	}

	const pid = Number(/"pid":(\d+)/.exec(readFileSync(join(dataDir, 'scheduler.lock'), 'utf8'))[1]);
	return {dataDir, pid, stop: () => jobdeck('stop')};
}

/** Waits until a process uses less than 5% of a core over half a second: a scheduler done saving what it was given. */
async function settled(pid) {
	for (;;) {
		const before = cpuSeconds(pid);
		await sleep(500);
		if ((cpuSeconds(pid) - before) / 0.5 < 0.05) return;
	}
}

/** Opens `jobdeck ui` in a new window; resolves with the time to its first frame with the queue's first job. */
async function attach(window, dataDir) {
	const startedAt = performance.now();
	tmux('new-window', '-d', '-t', 'bench', '-n', window, `env -u CI node ${cli} ui --data-dir ${dataDir}`);
	await waitForScreen(`bench:${window}`, screen => screen.includes('Queue') && (screen.includes('#1 ') || screen.includes('empty: a adds a job')));
	return performance.now() - startedAt;
}

/** The median of three attaches, each in a fresh window that is closed again. */
async function attachTime(dataDir) {
	const times = [];
	for (let index = 0; index < 3; index++) {
		times.push(await attach('probe', dataDir));
		tmux('kill-window', '-t', 'bench:probe');
		await sleep(300);
	}

	return median(times);
}

const schedulers = [];
try {
	const big = schedulerWith('big', Number(values.workers), Number(values.jobs));
	schedulers.push(big);
	const empty = schedulerWith('empty', Number(values.workers), 0);
	schedulers.push(empty);
	tmux('new-session', '-d', '-s', 'bench', '-x', '120', '-y', '40', 'sleep 3600');
	await settled(big.pid);
	await settled(empty.pid);

	const emptyMs = await attachTime(empty.dataDir);
	const bigMs = await attachTime(big.dataDir);
	await attach('empty', empty.dataDir);
	await attach('big', big.dataDir);
	const attachedAt = performance.now();
	const seconds = Number(values['idle-seconds']);
	const emptyIdle = await idleFigures(programPid('bench:empty'), seconds);
	const bigIdle = await idleFigures(programPid('bench:big'), seconds);
	await sleep(Math.max(0, attachedAt + Number(values['settle-seconds']) * 1000 - performance.now()));
	const emptySettled = await idleFigures(programPid('bench:empty'), seconds);
	const bigSettled = await idleFigures(programPid('bench:big'), 2 * seconds);

	// A change made in one screen (D: drain / enable the first worker), seen by that screen and by a second one on the same scheduler.
	await attach('second', big.dataDir);
	tmux('send-keys', '-t', 'bench:big', '1');
	await sleep(300);
	const own = [];
	const other = [];
	for (let index = 0; index < 10; index++) {
		const draining = screenOf('bench:big').includes(' 1 draining');
		const changed = screen => screen.includes(draining ? ' 0 draining' : ' 1 draining');
		const sentAt = performance.now();
		tmux('send-keys', '-t', 'bench:big', 'D');
		await Promise.all([
			waitForScreen('bench:big', changed, 5000).then(() => own.push(performance.now() - sentAt)),
			waitForScreen('bench:second', changed, 5000).then(() => other.push(performance.now() - sentAt)),
		]);
		await sleep(150);
	}

	const row = (name, value, unit, baseline) => console.log(name.padEnd(60) + `${value.toFixed(1)} ${unit}`.padStart(12) + `${baseline.toFixed(1)} ${unit}`.padStart(12) + `${(value / baseline).toFixed(2)}x`.padStart(10));
	console.log(`jobdeck ui attached to a headless scheduler with ${values.workers} workers and ${values.jobs} queued jobs, tmux 120x40;`);
	console.log(`baseline: the same with ${values.workers} workers and no queued job, or (last row) the screen that made the change`);
	console.log('figure'.padEnd(60) + 'jobdeck'.padStart(12) + 'baseline'.padStart(12) + 'ratio'.padStart(10));
	row('attach: launch to first frame, median of 3', bigMs, 'ms', emptyMs);
	row('UI memory (RSS of the jobdeck ui process), settled', bigSettled.rss, 'MB', emptySettled.rss);
	console.log(`UI idle CPU settled, % of one core (no queue: ${emptySettled.cpuPercent.toFixed(1)} %)`.padEnd(60) + `${bigSettled.cpuPercent.toFixed(1)} %`.padStart(12));
	console.log(`UI idle CPU, first seconds after attaching (no queue: ${emptyIdle.cpuPercent.toFixed(1)} %)`.padEnd(60) + `${bigIdle.cpuPercent.toFixed(1)} %`.padStart(12));
	row('change → other screen, median of 10', median(other), 'ms', median(own));
} finally {
	for (const scheduler of schedulers) {
		try {
			scheduler.stop();
		} catch {
			// Already stopped: the benchmark's own error, if any, is the one to report.
		}
	}

	killTmux();
	await sleep(300);
	rmSync(dir, {recursive: true, force: true});
}
