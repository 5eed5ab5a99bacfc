// Months in minutes: pushes many short jobs (/bin/true) through one headless
// scheduler on several one-slot local workers, with retention on and off.
// At 10 %, 50 % and 100 % of --jobs finished it records the scheduler's RSS,
// the time `status` and `status --json` take (median of 3), the size of the
// data dir and of the log dir, and the time a `start` takes (the scheduler is
// stopped and started again at each checkpoint).
//
//   node bench/soak.mjs [--jobs 1000000] [--workers 4] [--chunk 20000] [--keep-finished 10000] [--mode both|on|off] [--no-sync]
import {execFile, spawn} from 'node:child_process';
import {readdirSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {lineReader} from '../dist/core/line-reader.js';
import {cli, jobdeck, makeSandbox, median, numbers} from './headless.mjs';
import {rssMegabytes} from './process-figures.mjs';

const {values} = parseArgs({options: {
	jobs: {type: 'string', default: '1000000'},
	workers: {type: 'string', default: '4'},
	chunk: {type: 'string', default: '20000'},
	'keep-finished': {type: 'string', default: '10000'},
	mode: {type: 'string', default: 'both'},
	'no-sync': {type: 'boolean', default: false},
}});
const jobs = Number(values.jobs);
const workers = Number(values.workers);
const chunk = Number(values.chunk);
const keepFinished = Number(values['keep-finished']);
const checkpoints = [0.1, 0.5, 1].map(share => Math.round(jobs * share));

function startScheduler(sandbox, flags, onEvent) {
	const spawnedAt = performance.now();
	const child = spawn('node', [cli, 'start', '--headless', '--json', '--data-dir', sandbox.dataDir, '--log-dir', sandbox.logDir, ...flags], {cwd: sandbox.dir, stdio: ['ignore', 'pipe', 'inherit']});
	let onStarted;
	const started = new Promise(resolveStarted => {
		onStarted = resolveStarted;
	});
	child.stdout.on('data', lineReader(line => {
		const event = JSON.parse(line);
		if (event.type === 'started') onStarted(performance.now() - spawnedAt);
		onEvent(event);
	}));
	const exited = new Promise(resolveExit => {
		child.on('exit', resolveExit);
	});
	return {child, started, async stop() {
		await jobdeck(sandbox, ['stop']);
		await exited;
	}};
}

async function timed(sandbox, args) {
	const times = [];
	for (let round = 0; round < 3; round++) {
		const at = performance.now();
		await jobdeck(sandbox, args);
		times.push(performance.now() - at);
	}

	return median(times);
}

const megabytes = bytes => (bytes / 1024 / 1024).toFixed(1);

async function duBytes(path) {
	return new Promise(resolveSize => {
		execFile('du', ['-sb', path], (error, stdout) => resolveSize(error ? 0 : Number(stdout.split('\t')[0])));
	});
}

async function soak(retention) {
	const sandbox = makeSandbox();
	const flags = [...(values['no-sync'] ? ['--no-sync'] : []), ...(retention ? ['--keep-finished', String(keepFinished)] : [])];
	let finished = 0;
	let waiting;
	const onEvent = event => {
		if (event.type !== 'job-finished') return;
		finished++;
		if (waiting && finished >= waiting.count) waiting.resolve();
	};

	const untilFinished = async count => finished >= count ? undefined : new Promise(resolveWait => {
		waiting = {count, resolve: resolveWait};
	});
	let scheduler = startScheduler(sandbox, flags, onEvent);
	await scheduler.started;
	await jobdeck(sandbox, ['add-worker', '--skip-ssh-check', ...Array.from({length: workers}, (_, index) => `w${index + 1}`)]);
	// The baseline, in the same run on the same machine: the same figures on this data dir before any job ran.
	const baseline = {status: await timed(sandbox, ['status']), statusJson: await timed(sandbox, ['status', '--json'])};
	await scheduler.stop();
	scheduler = startScheduler(sandbox, [], onEvent);
	baseline.start = await scheduler.started;
	baseline.rss = rssMegabytes(scheduler.child.pid);
	const rows = [{finished: 0, ...baseline, dataBytes: await duBytes(sandbox.dataDir), logBytes: 0, logFiles: 0, rate: 0}];
	let added = 0;
	const began = performance.now();
	for (const checkpoint of checkpoints) {
		// Keep about two chunks queued: a bulk add of the next while the last one runs.
		while (added < checkpoint) {
			const count = Math.min(chunk, checkpoint - added);
			await jobdeck(sandbox, ['add-job', '--each', '/bin/true', ...numbers(count)]);
			added += count;
			await untilFinished(Math.max(0, added - chunk));
		}

		await untilFinished(checkpoint);
		const rss = rssMegabytes(scheduler.child.pid);
		const status = await timed(sandbox, ['status']);
		const statusJson = await timed(sandbox, ['status', '--json']);
		await scheduler.stop();
		const dataBytes = await duBytes(sandbox.dataDir);
		const logBytes = await duBytes(sandbox.logDir);
		const logFiles = readdirSync(sandbox.logDir).length;
		scheduler = startScheduler(sandbox, [], onEvent);
		const start = await scheduler.started;
		rows.push({finished: checkpoint, rss, start, status, statusJson, dataBytes, logBytes, logFiles, rate: checkpoint / ((performance.now() - began) / 1000)});
		console.error(`retention ${retention ? 'on' : 'off'}: ${checkpoint} finished, ${JSON.stringify(rows.at(-1))}`);
	}

	await scheduler.stop();
	sandbox.remove();
	return rows;
}

const modes = values.mode === 'both' ? [true, false] : [values.mode === 'on'];
console.log(`soak: ${jobs} jobs (/bin/true) on ${workers} one-slot workers, added ${chunk} at a time${values['no-sync'] ? ', --no-sync' : ''}; retention on: start --keep-finished ${keepFinished}`);
console.log('');
console.log('Row 0 is the baseline, measured in the same run: the same data dir before any job ran. Ratios (x) are against it.');
console.log('');
console.log('| retention | finished | RSS MB | start ms (x) | status ms (x) | status --json ms (x) | data dir MB | logs MB (files) | jobs/s so far |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const retention of modes) {
	const rows = await soak(retention);
	const [base] = rows;
	const ratio = (value, against) => `${value.toFixed(0)} (${(value / against).toFixed(2)})`;
	for (const row of rows) {
		console.log(`| ${retention ? `keep ${keepFinished}` : 'off'} | ${row.finished} | ${row.rss.toFixed(0)} | ${ratio(row.start, base.start)} | ${ratio(row.status, base.status)} | ${ratio(row.statusJson, base.statusJson)} | ${megabytes(row.dataBytes)} | ${megabytes(row.logBytes)} (${row.logFiles}) | ${row.rate.toFixed(0)} |`);
	}

	if (retention) {
		const [, first, ...later] = rows;
		const flat = later.every(row => Math.abs(row.rss - first.rss) <= first.rss * 0.2);
		const last = rows.at(-1);
		console.log(`\ntargets at ${last.finished} finished: RSS within 20 % of the ${first.finished} figure: ${flat ? 'yes' : 'no'}; start < 1 s: ${last.start < 1000 ? 'yes' : 'no'} (${last.start.toFixed(0)} ms); status < 200 ms: ${last.status < 200 ? 'yes' : 'no'} (${last.status.toFixed(0)} ms)\n`);
	}
}
