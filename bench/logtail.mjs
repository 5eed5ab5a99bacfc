#!/usr/bin/env node
// Log tailing benchmark (issue 6, target 5: new output on screen < 100 ms after
// the job writes it; a 1 GB log opens instantly and memory does not grow with
// log size). `jobdeck start` (the UI with its engine) runs in a real terminal
// (tmux 120x40) with three running jobs, each a real script:
// - a job that copies what the benchmark writes into a FIFO to its output
//   (`cat`), so each line reaches the log the moment the benchmark writes it.
//   Write → the line visible in the output pane, next to `tail -f` of the same
//   log in another tmux window, measured the same way (taking turns), and
//   `jobdeck logs -f` in a third; single lines spaced apart, bursts of lines
//   written at once, and a steady stream (a line every 20 ms: each line's time
//   to the first screen showing it, and the CPU the UI uses meanwhile).
// - a job that wrote 1 KB and a job that wrote 1 GB (`yes | head -c`), each
//   ending with a marker line, both still running: keypress selecting the job →
//   its last line visible; the UI's RSS and the bytes it read (/proc rchar)
//   while opening each; `tail -n 40` of each file.
// - `jobdeck logs ID` and `jobdeck logs -f ID` of the 1 GB log into a pipe,
//   also one not read for its first 2 s (a pager waiting for its user): wall
//   time and peak RSS (/usr/bin/time), next to `cat` of the same file and to
//   `jobdeck logs` of the 1 KB log.
// The screen is read by polling `tmux capture-pane`; each poll takes a few ms
// (the resolution is printed).
//
//   node bench/logtail.mjs [--lines 20] [--gap-ms 300] [--bursts 5] [--burst-lines 200] [--stream-ms 20] [--stream-seconds 5]
//                          [--size-mb 1024] [--opens 5] [--profile DIR]
//
// --profile DIR writes a V8 CPU profile of the UI process to DIR (bench/profile-summary.mjs reads it).
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {chmodSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync, writeSync} from 'node:fs';
import {open as openFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {median} from './headless.mjs';
import {bytesReadBy, cpuSeconds, rssMegabytes, sleep} from './process-figures.mjs';
import {tmuxServer} from './terminal.mjs';

const {values} = parseArgs({options: {
	lines: {type: 'string', default: '20'},
	'gap-ms': {type: 'string', default: '300'},
	bursts: {type: 'string', default: '5'},
	'burst-lines': {type: 'string', default: '200'},
	'stream-ms': {type: 'string', default: '20'},
	'stream-seconds': {type: 'string', default: '5'},
	'size-mb': {type: 'string', default: '1024'},
	opens: {type: 'string', default: '5'},
	profile: {type: 'string'},
}});
const cli = resolve(import.meta.dirname, '../dist/jobdeck.cjs');
const profileArgs = values.profile ? `--cpu-prof --cpu-prof-dir=${resolve(values.profile)} ` : '';
const {tmux, screen: screenOf, programPid, kill: killTmux} = tmuxServer('jobdeck-logtail-bench');
const max = times => Math.max(...times);

/** The output pane's part of a screen: the lines below its title (the running pane's "Last output" column shows lines too). */
function outputPane(screen) {
	const lines = screen.split('\n');
	return lines.slice(lines.findIndex(line => line.includes('─ 5 Output')) + 1).join('\n');
}

/** How long each screen capture took: the resolution of the times below. */
const polls = [];
/** Polls the window's screen until `test` passes; resolves with the time it first did, from `since`. */
async function timeToScreen(window, test, {since = performance.now(), timeoutMs = 60_000} = {}) {
	for (;;) {
		const before = performance.now();
		const screen = screenOf(window);
		const after = performance.now();
		polls.push(after - before);
		if (test(screen)) return after - since;
		if (after - since > timeoutMs) throw new Error(`timed out; screen:\n${screen}`);
		await sleep(1);
	}
}

const dir = mkdtempSync(join(tmpdir(), 'jobdeck-logtail-bench-'));
const dataDir = join(dir, '.data');
const jobdeck = (command, ...args) => execFileSync('node', [cli, command, '--data-dir', dataDir, ...args], {cwd: dir, encoding: 'utf8'});
const fifos = [];

/** Opens a FIFO for writing (waits until its job opens it for reading). Closing it ends the job's `cat`. */
async function fifoWriter(path) {
	return openFile(path, 'w');
}

async function runningJob(id) {
	for (;;) {
		const run = JSON.parse(jobdeck('status', '--json')).running.find(candidate => candidate.id === id);
		if (run) return run;
		await sleep(50);
	}
}

/** Time from `spawn` to exit, peak RSS and bytes of a command whose stdout goes into a pipe the benchmark reads and drops. */
async function piped(command, args, {onBytes = () => undefined, readAfterMs = 0} = {}) {
	const timeFile = join(dir, 'time.txt');
	const startedAt = performance.now();
	const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, command, ...args], {cwd: dir, stdio: ['ignore', 'pipe', 'inherit']});
	let bytes = 0;
	child.stdout.on('data', chunk => {
		bytes += chunk.length;
		onBytes(bytes);
	});
	// A reader that is slow to start, as a pager waiting for its user: the writer must wait, not buffer.
	if (readAfterMs > 0) {
		child.stdout.pause();
		setTimeout(() => child.stdout.resume(), readAfterMs);
	}

	const status = await new Promise(resolveExit => {
		child.on('close', resolveExit);
	});
	if (status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${status}`);
	return {ms: performance.now() - startedAt, peakMegabytes: Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) / 1024, bytes};
}

/** The requested size, or a smaller one (said loudly) when /tmp has no room for it and 512 MB to spare. */
function logSize() {
	const wanted = Number(values['size-mb']) * 1024 * 1024;
	const spare = 512 * 1024 * 1024;
	const {bavail, bsize} = statfsSync(dir);
	const free = bavail * bsize;
	if (free > wanted + spare) return wanted;
	const size = Math.max(16, Math.floor((free - spare) / 2 / 1024 / 1024)) * 1024 * 1024;
	console.log(`\n!!! ONLY ${(free / 1024 / 1024).toFixed(0)} MB FREE IN ${tmpdir()}: THE "1 GB" LOG IS ${size / 1024 / 1024} MB IN THIS RUN !!!\n`);
	return size;
}

try {
	const bigSize = logSize();
	const smallSize = 1024;
	writeFileSync(join(dir, 'copy.sh'), '#!/bin/sh\n# Copies what the benchmark writes into the FIFO to the job\'s output, as it comes.\nexec cat "$1"\n');
	writeFileSync(join(dir, 'write-log.sh'), '#!/bin/sh\n# $1 bytes of output, a last line $2, then running on until the benchmark closes FIFO $3.\nyes \'jobdeck benchmark log line: 0123456789 abcdefghijklmnopqrstuvwxyz\' | head -c "$1"\nprintf \'\\n%s\\n\' "$2"\nexec cat "$3" > /dev/null\n');
	chmodSync(join(dir, 'copy.sh'), 0o755);
	chmodSync(join(dir, 'write-log.sh'), 0o755);
	for (const name of ['latency', 'small', 'big']) {
		spawnSync('mkfifo', [join(dir, `${name}.fifo`)]);
		fifos.push(join(dir, `${name}.fifo`));
	}

	tmux('new-session', '-d', '-s', 'bench', '-x', '120', '-y', '40', 'sleep 3600');
	tmux('new-window', '-d', '-t', 'bench', '-n', 'ui', `env -u CI node ${profileArgs}${cli} start --data-dir ${dataDir} --log-dir ${dir}/logs`);
	await timeToScreen('bench:ui', screen => screen.includes('Queue'));
	const uiPid = programPid('bench:ui');
	jobdeck('add-worker', '--skip-ssh-check', 'w1', 'w2', 'w3');
	jobdeck('add-job', './copy.sh', join(dir, 'latency.fifo'));
	const latencyRun = await runningJob(1);
	const latency = await fifoWriter(join(dir, 'latency.fifo'));
	jobdeck('add-job', './write-log.sh', String(smallSize), 'LAST-LINE-OF-THE-SMALL-LOG', join(dir, 'small.fifo'));
	jobdeck('add-job', './write-log.sh', String(bigSize), 'LAST-LINE-OF-THE-BIG-LOG', join(dir, 'big.fifo'));
	const smallRun = await runningJob(2);
	const bigRun = await runningJob(3);
	// Each has written its log once its `cat` opens the FIFO.
	const small = await fifoWriter(join(dir, 'small.fifo'));
	const big = await fifoWriter(join(dir, 'big.fifo'));
	const smallBytes = statSync(smallRun.logFile).size;
	const bigBytes = statSync(bigRun.logFile).size;

	// 1. Output latency: job 1 selected in the running pane; tail -f of its log in another window.
	tmux('new-window', '-d', '-t', 'bench', '-n', 'tail', `tail -n 5 -f ${latencyRun.logFile}`);
	// And `jobdeck logs -f` of the same job, the command line's way to follow it.
	tmux('new-window', '-d', '-t', 'bench', '-n', 'follow', `node ${cli} logs -f --data-dir ${dataDir} 1`);
	const followPid = programPid('bench:follow');
	tmux('send-keys', '-t', 'bench:ui', '3');
	await timeToScreen('bench:ui', screen => screen.includes('Output #1 '));
	const written = text => {
		const at = performance.now();
		writeSync(latency.fd, text);
		return at;
	};

	const windows = ['ui', 'tail', 'follow'];
	const lineTimes = {ui: [], tail: [], follow: []};
	const burstTimes = {ui: [], tail: [], follow: []};
	const lineCount = Number(values.lines);
	const gapMs = Number(values['gap-ms']);
	const burstLines = Number(values['burst-lines']);
	const shownIn = window => (window === 'ui' ? screen => outputPane(screen) : screen => screen);
	await timeToScreen('bench:ui', screen => shownIn('ui')(screen).includes('warm-up'), {since: written('warm-up\n')});
	await sleep(gapMs);
	for (let index = 0; index < lineCount; index++) {
		for (const [window, times] of windows.map(name => [name, lineTimes[name]])) {
			const marker = `line-${window}-${index}-${process.pid}`;
			times.push(await timeToScreen(`bench:${window}`, screen => shownIn(window)(screen).includes(marker), {since: written(`${marker}\n`)}));
			await sleep(gapMs);
		}
	}

	for (let index = 0; index < Number(values.bursts); index++) {
		for (const [window, times] of windows.map(name => [name, burstTimes[name]])) {
			const marker = `burst-${window}-${index}-${process.pid}`;
			const burst = Array.from({length: burstLines}, (_, line) => `${marker} line ${line + 1} of ${burstLines}\n`).join('');
			const last = `${marker} line ${burstLines} of`;
			times.push(await timeToScreen(`bench:${window}`, screen => shownIn(window)(screen).includes(last), {since: written(burst)}));
			await sleep(2 * gapMs);
		}
	}

	/**
	 * A job that keeps writing, a line every `everyMs`: each line's time from its write to the first screen
	 * showing it or a newer one (it may scroll past between two polls), and the CPU the window's program used.
	 */
	async function streamLatency(window, pid, everyMs, seconds) {
		const prefix = `stream-${window}-${process.pid}-`;
		const pattern = new RegExp(`${prefix}(\\d+)`, 'g');
		const total = Math.round(seconds * 1000 / everyMs);
		const writtenAt = [];
		const cpuBefore = cpuSeconds(pid);
		const startedAt = performance.now();
		const timer = setInterval(() => {
			if (writtenAt.length < total) writtenAt.push(written(`${prefix}${writtenAt.length}\n`));
		}, everyMs);
		const latencies = [];
		try {
			while (latencies.length < total) {
				const screen = screenOf(`bench:${window}`);
				const now = performance.now();
				let newest = -1;
				for (const match of shownIn(window)(screen).matchAll(pattern)) newest = Math.max(newest, Number(match[1]));
				while (latencies.length <= newest) latencies.push(now - writtenAt[latencies.length]);
				if (now - startedAt > seconds * 1000 + 10_000) throw new Error(`${window}: ${latencies.length} of ${total} stream lines seen`);
				await sleep(1);
			}
		} finally {
			clearInterval(timer);
		}

		return {latencies, cpuPercent: (cpuSeconds(pid) - cpuBefore) / ((performance.now() - startedAt) / 1000) * 100};
	}

	const streamMs = Number(values['stream-ms']);
	const streamSeconds = Number(values['stream-seconds']);
	const uiStream = await streamLatency('ui', uiPid, streamMs, streamSeconds);
	await sleep(gapMs);
	const tailPid = Number(tmux('display-message', '-p', '-t', 'bench:tail', '#{pane_pid}').trim());
	const tailStream = await streamLatency('tail', tailPid, streamMs, streamSeconds);
	await sleep(gapMs);
	const followStream = await streamLatency('follow', followPid, streamMs, streamSeconds);
	await sleep(gapMs);

	// 2. Opening the 1 KB and the 1 GB log: j selects job 2 (small), j again job 3 (big), k back to 2.
	const opens = {small: [], big: []};
	const rss = {small: [], big: []};
	const read = {small: [], big: []};
	const select = async (key, which) => {
		const readBefore = bytesReadBy(uiPid);
		const marker = which === 'big' ? 'LAST-LINE-OF-THE-BIG-LOG' : 'LAST-LINE-OF-THE-SMALL-LOG';
		const sentAt = performance.now();
		tmux('send-keys', '-t', 'bench:ui', key);
		opens[which].push(await timeToScreen('bench:ui', screen => outputPane(screen).includes(marker), {since: sentAt, timeoutMs: 30_000}));
		await sleep(500);
		read[which].push(bytesReadBy(uiPid) - readBefore);
		rss[which].push(rssMegabytes(uiPid));
	};

	await select('j', 'small');
	for (let index = 0; index < Number(values.opens); index++) {
		await select('j', 'big');
		await select('k', 'small');
	}

	const tailN = file => {
		const times = [];
		for (let index = 0; index < 5; index++) {
			const startedAt = performance.now();
			spawnSync('tail', ['-n', '40', file], {stdio: ['ignore', 'ignore', 'inherit']});
			times.push(performance.now() - startedAt);
		}

		return median(times);
	};

	const tailBig = tailN(bigRun.logFile);
	const tailSmall = tailN(smallRun.logFile);

	// 3. The CLI on the 1 GB log, into a pipe, next to cat of the same file.
	const logsSmall = await piped('node', [cli, 'logs', '--data-dir', dataDir, '2']);
	const logsPrint = await piped('node', [cli, 'logs', '--data-dir', dataDir, '3']);
	const catPrint = await piped('cat', [bigRun.logFile]);
	const lateMs = 2000;
	const logsLate = await piped('node', [cli, 'logs', '--data-dir', dataDir, '3'], {readAfterMs: lateMs});
	const catLate = await piped('cat', [bigRun.logFile], {readAfterMs: lateMs});
	// -f follows the running job; it ends once the job does, which the benchmark lets happen when everything has come through.
	let released = false;
	const logsFollow = await piped('node', [cli, 'logs', '-f', '--data-dir', dataDir, '3'], {readAfterMs: lateMs, onBytes(bytes) {
		if (bytes >= bigBytes && !released) {
			released = true;
			void big.close();
		}
	}});

	const mb = bytes => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
	const row = (name, value, unit, baseline, digits = 1) => console.log(name.padEnd(62) + `${value.toFixed(digits)} ${unit}`.padStart(12) + `${baseline.toFixed(digits)} ${unit}`.padStart(12) + `${(value / baseline).toFixed(2)}x`.padStart(9));
	console.log(`jobdeck start (UI + engine) in tmux 120x40, 3 running jobs; screen polled every ${median(polls).toFixed(1)} ms (median capture-pane)`);
	console.log('figure'.padEnd(62) + 'jobdeck'.padStart(12) + 'baseline'.padStart(12) + 'ratio'.padStart(9));
	console.log(`-- output latency: job writes a line -> on screen [< 100 ms]; baseline: tail -f of the same log`);
	row(`one line, median of ${lineCount} (${gapMs} ms apart)`, median(lineTimes.ui), 'ms', median(lineTimes.tail));
	row(`one line, max of ${lineCount}`, max(lineTimes.ui), 'ms', max(lineTimes.tail));
	row(`${burstLines} lines at once -> the last on screen, median of ${values.bursts}`, median(burstTimes.ui), 'ms', median(burstTimes.tail));
	row(`${burstLines} lines at once, max of ${values.bursts}`, max(burstTimes.ui), 'ms', max(burstTimes.tail));
	row(`a line every ${streamMs} ms for ${streamSeconds} s: each line, median`, median(uiStream.latencies), 'ms', median(tailStream.latencies));
	row(`a line every ${streamMs} ms: each line, max`, max(uiStream.latencies), 'ms', max(tailStream.latencies));
	console.log(`a line every ${streamMs} ms: CPU of the UI process (baseline: of tail)`.padEnd(62) + `${uiStream.cpuPercent.toFixed(1)} %`.padStart(12) + `${tailStream.cpuPercent.toFixed(1)} %`.padStart(12));
	console.log(`-- the same for \`jobdeck logs -f\` in a terminal; baseline: tail -f`);
	row(`one line, median of ${lineCount}`, median(lineTimes.follow), 'ms', median(lineTimes.tail));
	row(`one line, max of ${lineCount}`, max(lineTimes.follow), 'ms', max(lineTimes.tail));
	row(`${burstLines} lines at once, median of ${values.bursts}`, median(burstTimes.follow), 'ms', median(burstTimes.tail));
	row(`a line every ${streamMs} ms: each line, median`, median(followStream.latencies), 'ms', median(tailStream.latencies));
	row(`a line every ${streamMs} ms: each line, max`, max(followStream.latencies), 'ms', max(tailStream.latencies));
	console.log(`a line every ${streamMs} ms: CPU of logs -f (baseline: of tail)`.padEnd(62) + `${followStream.cpuPercent.toFixed(1)} %`.padStart(12) + `${tailStream.cpuPercent.toFixed(1)} %`.padStart(12));
	console.log(`-- opening a log of ${mb(bigBytes)}; baseline: the same for a log of ${mb(smallBytes)}`);
	row(`select the job -> its last line on screen, median of ${values.opens}`, median(opens.big), 'ms', median(opens.small));
	row('UI memory (RSS) after opening it, median', median(rss.big), 'MB', median(rss.small));
	row('bytes the UI read while opening it (/proc rchar), median', median(read.big) / 1024, 'KB', median(read.small) / 1024);
	row(`tail -n 40 of the ${mb(bigBytes)} log (baseline: of the small one)`, tailBig, 'ms', tailSmall);
	console.log(`-- jobdeck logs of the ${mb(bigBytes)} log into a pipe; baseline: cat of the same file`);
	row(`jobdeck logs 3: peak RSS (printed ${mb(logsPrint.bytes)})`, logsPrint.peakMegabytes, 'MB', catPrint.peakMegabytes);
	row(`jobdeck logs 3: peak RSS; baseline: jobdeck logs of the ${mb(smallBytes)} log`, logsPrint.peakMegabytes, 'MB', logsSmall.peakMegabytes);
	row('jobdeck logs 3: wall time', logsPrint.ms, 'ms', catPrint.ms, 0);
	row(`jobdeck logs 3, the pipe read from ${lateMs / 1000} s on: peak RSS`, logsLate.peakMegabytes, 'MB', catLate.peakMegabytes);
	row(`jobdeck logs -f 3 (running), read from ${lateMs / 1000} s on: peak RSS (${mb(logsFollow.bytes)})`, logsFollow.peakMegabytes, 'MB', catLate.peakMegabytes);
	row('jobdeck logs -f 3: wall time until everything came through', logsFollow.ms, 'ms', catLate.ms, 0);
	await latency.close();
	await small.close();
} finally {
	// Any job still waiting on its FIFO gets an end of file, and ends.
	for (const fifo of fifos) {
		try {
			// Without a reader left, a blocking open would wait forever: this one fails instead.
			closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
		} catch {
			// No job reads it any more: nothing waits on it.
		}
	}

	try {
		jobdeck('stop');
	} catch {
		// The scheduler is gone already; the tmux server goes next either way.
	}

	killTmux();
	await sleep(300);
	rmSync(dir, {recursive: true, force: true});
}
