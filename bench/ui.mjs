#!/usr/bin/env node
// UI benchmark: `jobdeck start` (the full-screen UI with its engine) on a data
// dir holding 1,000 workers and 100,000 queued jobs, run in a real terminal
// (tmux). It measures the time to the first frame, idle CPU and memory, and
// keypress-to-redraw time, each next to a baseline measured in the same run:
// an idle `node` process for CPU and memory, and `cat` echoing a key in the
// same tmux for the redraw. Idle CPU is measured twice: in the first seconds
// after start-up, when V8 shrinks the heap the start-up grew (a few
// "Mark-Compact (reduce)" collections, once), and settled, from
// --settle-seconds after the first frame on: what an idle screen costs for as
// long as it stays open.
//
//   node bench/ui.mjs [--workers 1000] [--jobs 100000] [--idle-seconds 10] [--settle-seconds 40] [--profile DIR]
//
// --profile DIR writes a V8 CPU profile of the UI process to DIR; it is idle
// from the first frame until the keypresses (with the defaults, the settled
// stretch is bench/profile-summary.mjs PROFILE --from 42 --to 60).
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {idleFigures, sleep} from './process-figures.mjs';
import {tmuxServer} from './terminal.mjs';

const {values} = parseArgs({options: {
	workers: {type: 'string', default: '1000'},
	jobs: {type: 'string', default: '100000'},
	'idle-seconds': {type: 'string', default: '10'},
	'settle-seconds': {type: 'string', default: '40'},
	profile: {type: 'string'},
}});
const cli = resolve(import.meta.dirname, '../dist/jobdeck.cjs');
const profileArgs = values.profile ? `--cpu-prof --cpu-prof-dir=${resolve(values.profile)} ` : '';
const {tmux, screen: screenOf, waitForScreen, programPid, kill: killTmux} = tmuxServer('jobdeck-bench');

/** Median time from a key sent to the screen showing its effect. */
async function keypressLatency(window, key, changed, count = 20) {
	const times = [];
	for (let index = 0; index < count; index++) {
		const before = screenOf(window);
		const sentAt = performance.now();
		tmux('send-keys', '-t', window, key);
		await waitForScreen(window, screen => changed(before, screen), 5000);
		times.push(performance.now() - sentAt);
		await sleep(120);
	}

	times.sort((a, b) => a - b);
	return times[Math.floor(times.length / 2)];
}

const dir = mkdtempSync(join(tmpdir(), 'jobdeck-ui-bench-'));
const dataDir = join(dir, '.data');
try {
	// The state: paused, so the 100,000 jobs stay queued while the UI is measured.
	spawnSync('sh', ['-c', `node ${cli} start --headless --data-dir ${dataDir} --log-dir ${dir}/logs > ${dir}/headless.log 2>&1 &`], {encoding: 'utf8'});
	await sleep(800);
	const jobdeck = (...args) => execFileSync('node', [cli, ...args, '--data-dir', dataDir], {cwd: dir, encoding: 'utf8'});
	jobdeck('pause');
	jobdeck('add-worker', '--skip-ssh-check', ...Array.from({length: Number(values.workers)}, (_, index) => `worker-${index + 1}`));
	writeFileSync(join(dir, 'list.txt'), Array.from({length: Number(values.jobs)}, (_, index) => `input-${index + 1}.txt`).join('\n') + '\n');
	jobdeck('add-job', '--from-file', 'list.txt', '/bin/true');
	jobdeck('stop');
	await sleep(500);

	tmux('new-session', '-d', '-s', 'bench', '-x', '120', '-y', '40', 'node -e "setInterval(() => {}, 1000)"');
	tmux('new-window', '-t', 'bench', '-n', 'cat', 'cat');
	const startedAt = performance.now();
	tmux('new-window', '-t', 'bench', '-n', 'ui', `env -u CI node ${profileArgs}${cli} start --data-dir ${dataDir} --log-dir ${dir}/logs`);
	await waitForScreen('bench:ui', screen => screen.includes('Queue') && screen.includes('#1 '));
	const firstFrameMs = performance.now() - startedAt;
	const nodeIdle = await idleFigures(programPid('bench:0', 'node'), Number(values['idle-seconds']));
	const uiIdle = await idleFigures(programPid('bench:ui', 'node'), Number(values['idle-seconds']));
	await sleep(Math.max(0, startedAt + firstFrameMs + Number(values['settle-seconds']) * 1000 - performance.now()));
	const uiSettled = await idleFigures(programPid('bench:ui', 'node'), 2 * Number(values['idle-seconds']));
	const catMs = await keypressLatency('bench:cat', 'x', (before, after) => after !== before);
	tmux('send-keys', '-t', 'bench:ui', '2');
	await sleep(300);
	const uiMs = await keypressLatency('bench:ui', 'j', (before, after) => after !== before);

	// An idle node process uses next to no CPU: a ratio against ~0 says nothing, so none is printed then.
	const ratio = (value, baseline) => (baseline < 0.05 ? '—' : `${(value / baseline).toFixed(2)}x`);
	const row = (name, value, unit, baseline) => console.log(name.padEnd(46) + `${value.toFixed(1)} ${unit}`.padStart(12) + `${baseline.toFixed(1)} ${unit}`.padStart(12) + ratio(value, baseline).padStart(10));
	console.log(`jobdeck start (UI + engine), ${values.workers} workers, ${values.jobs} queued jobs, tmux 120x40`);
	console.log('figure'.padEnd(46) + 'jobdeck'.padStart(12) + 'baseline'.padStart(12) + 'ratio'.padStart(10));
	row('idle CPU, settled (% of a core; b.: idle node)', uiSettled.cpuPercent, '%', nodeIdle.cpuPercent);
	row('idle CPU, first seconds after start-up', uiIdle.cpuPercent, '%', nodeIdle.cpuPercent);
	row('memory RSS, settled (baseline: idle node)', uiSettled.rss, 'MB', nodeIdle.rss);
	row('keypress → redraw, median of 20 (baseline: cat)', uiMs, 'ms', catMs);
	console.log(`${'start to first frame'.padEnd(46)}${`${firstFrameMs.toFixed(0)} ms`.padStart(12)}`);
} finally {
	killTmux();
	await sleep(300);
	rmSync(dir, {recursive: true, force: true});
}
