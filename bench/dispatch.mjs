#!/usr/bin/env node
// Dispatch benchmark: N no-op jobs over 8 one-slot workers through a real
// headless scheduler, from the moment the queue is released to the last
// recorded finish, next to `xargs -P8` (the fork/exec floor) and, when they
// are installed, GNU parallel and task-spooler, all measured in this run.
//
//   node bench/dispatch.mjs [--jobs 2000] [--workers 8] [--command /bin/true] [--profile DIR] [--no-sync]
//
// --no-sync starts the scheduler with `start --no-sync`: what dispatch costs without the fsyncs.
//
// --profile DIR writes a V8 CPU profile of the scheduler to DIR (summarise it
// with bench/profile-summary.mjs).
import {spawnSync} from 'node:child_process';
import {resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {finishCounter, jobdeck, makeSandbox, numbers, startScheduler} from './headless.mjs';

const {values} = parseArgs({options: {
	jobs: {type: 'string', default: '2000'},
	workers: {type: 'string', default: '8'},
	command: {type: 'string', default: '/bin/true'},
	profile: {type: 'string'},
	'no-sync': {type: 'boolean', default: false},
	// How long one job takes by itself: with it, the time lost per job and slot is printed.
	'job-ms': {type: 'string'},
}});
// The scheduler runs in a sandbox directory: a relative script path means the one here.
const command = values.command.includes('/') ? resolve(values.command) : values.command;
const jobCount = Number(values.jobs);
const workerCount = Number(values.workers);
const profileArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [];

async function measureJobdeck() {
	const sandbox = makeSandbox();
	const counter = finishCounter();
	const scheduler = startScheduler(sandbox, {nodeArgs: profileArgs, onEvent: counter.onEvent, args: values['no-sync'] ? ['--no-sync'] : []});
	await scheduler.started;
	await jobdeck(sandbox, ['pause']);
	await jobdeck(sandbox, ['add-worker', '--skip-ssh-check', ...numbers(workerCount).map(index => `worker-${index}`)]);
	await jobdeck(sandbox, ['add-job', '--each', command, ...numbers(jobCount)]);
	const releasedAt = Date.now();
	await jobdeck(sandbox, ['resume']);
	const lastFinishAt = await counter.waitFor(jobCount);
	await scheduler.stop();
	sandbox.remove();
	return (lastFinishAt - releasedAt) / 1000;
}

function measureCommand(command, args, input) {
	const startedAt = process.hrtime.bigint();
	const result = spawnSync(command, args, {input, stdio: ['pipe', 'ignore', 'inherit']});
	if (result.status !== 0) throw new Error(`${command} failed`);
	return Number(process.hrtime.bigint() - startedAt) / 1e9;
}

const has = command => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const input = numbers(jobCount).join('\n') + '\n';

const results = [];
results.push({name: `xargs -P${workerCount} (fork/exec floor)`, seconds: measureCommand('xargs', [`-P${workerCount}`, '-n1', command], input)});
if (has('parallel')) results.push({name: `GNU parallel -j${workerCount}`, seconds: measureCommand('parallel', [`-j${workerCount}`, command], input)});
else results.push({name: 'GNU parallel', skipped: 'not installed (apt-get install parallel)'});
results.push({name: `jobdeck, ${workerCount} one-slot workers${values['no-sync'] ? ', --no-sync' : ''}`, seconds: await measureJobdeck()});

const floor = results[0].seconds;
console.log(`${jobCount} jobs of ${values.command}, ${workerCount} slots, on ${process.platform} with node ${process.version}`);
console.log('tool'.padEnd(40) + 'wall'.padStart(10) + 'per job'.padStart(12) + 'jobs/s'.padStart(10) + 'vs xargs'.padStart(10));
for (const result of results) {
	if (result.skipped) {
		console.log(`${result.name.padEnd(40)}  skipped: ${result.skipped}`);
		continue;
	}

	console.log(result.name.padEnd(40)
		+ `${result.seconds.toFixed(2)} s`.padStart(10)
		+ `${(result.seconds * 1000 / jobCount).toFixed(2)} ms`.padStart(12)
		+ String(Math.round(jobCount / result.seconds)).padStart(10)
		+ `${(result.seconds / floor).toFixed(2)}x`.padStart(10)
		+ (values['job-ms'] === undefined ? '' : `   lost per job per slot: ${(result.seconds * 1000 * workerCount / jobCount - Number(values['job-ms'])).toFixed(2)} ms`));
}
