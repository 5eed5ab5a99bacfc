#!/usr/bin/env node
// Scale: dispatch with a big state next to dispatch with a small one, in the
// same run. --workers one-slot workers (1,000); the first --measure jobs
// (2,000 /bin/true) are timed from `resume` to their last finish, once with
// nothing else queued and once with --queued (100,000) jobs behind them. Then
// the big state's `start`: from spawning the scheduler to its `started` line,
// and its RSS.
//
//   node bench/scale.mjs [--workers 1000] [--queued 100000] [--measure 2000]
import {parseArgs} from 'node:util';
import {finishCounter, jobdeck, makeSandbox, numbers, startScheduler} from './headless.mjs';

const {values} = parseArgs({options: {
	workers: {type: 'string', default: '1000'},
	queued: {type: 'string', default: '100000'},
	measure: {type: 'string', default: '2000'},
}});
const workerCount = Number(values.workers);
const queuedCount = Number(values.queued);
const measured = Number(values.measure);

async function dispatchRate(totalJobs) {
	const sandbox = makeSandbox();
	const counter = finishCounter();
	const scheduler = startScheduler(sandbox, {onEvent: counter.onEvent});
	await scheduler.started;
	await jobdeck(sandbox, ['pause']);
	await jobdeck(sandbox, ['add-worker', '--skip-ssh-check', ...numbers(workerCount).map(index => `worker-${index}`)]);
	await jobdeck(sandbox, ['add-job', '--each', '/bin/true', ...numbers(totalJobs)]);
	const releasedAt = Date.now();
	await jobdeck(sandbox, ['resume']);
	const lastAt = await counter.waitFor(measured);
	await jobdeck(sandbox, ['pause']);
	await scheduler.stop();
	return {rate: measured / ((lastAt - releasedAt) / 1000), sandbox};
}

const small = await dispatchRate(measured);
small.sandbox.remove();
const big = await dispatchRate(measured + queuedCount);

// The big state again, from disk: what `start` costs with it.
const restarted = startScheduler(big.sandbox);
const startedAt = await restarted.started;
const loadSeconds = (startedAt - restarted.spawnedAt) / 1000;
const rss = restarted.rssMegabytes();
await restarted.stop();
big.sandbox.remove();

console.log(`${workerCount} one-slot workers, ${measured} /bin/true jobs timed`);
console.log(`dispatch rate, only those jobs queued     ${small.rate.toFixed(0).padStart(7)} jobs/s   1.00x`);
console.log(`dispatch rate, ${queuedCount} more queued     ${big.rate.toFixed(0).padStart(7)} jobs/s   ${(big.rate / small.rate).toFixed(2)}x   (target ≥ 0.80x)`);
console.log(`start with ${queuedCount} queued, ${workerCount} workers  ${loadSeconds.toFixed(2).padStart(7)} s        (target < 1 s: ${loadSeconds < 1 ? 'met' : 'missed'})`);
console.log(`scheduler RSS after that start             ${rss.toFixed(0).padStart(7)} MB`);
