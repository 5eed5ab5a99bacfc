#!/usr/bin/env node
// Priorities and tags against plain first-in first-out, in the same run: the
// same --workers one-slot workers (1,000) and the same --queued + --measure
// /bin/true jobs (100,000 + 2,000), once all plain, once spread over five
// priorities and four sets of needed tags (none, gpu, mem256, gpu+mem256) on
// a fleet tagged to match (half gpu+mem256, a quarter gpu, a quarter mem256 —
// every job has workers, none has them all). Timed from `resume` to the
// --measure-th finish: a freed slot must find its next job without
// scanning the queue, so the two rates should be close. Two rounds of each,
// in the order plain, mixed, mixed, plain; the means are compared.
//
//   node bench/priority.mjs [--workers 1000] [--queued 100000] [--measure 2000]
import {parseArgs} from 'node:util';
import {finishCounter, jobdeck, makeSandbox, numbers, startScheduler} from './headless.mjs';

const {values} = parseArgs({options: {
	workers: {type: 'string', default: '1000'},
	queued: {type: 'string', default: '100000'},
	measure: {type: 'string', default: '2000'},
}});
const workerCount = Number(values.workers);
const totalJobs = Number(values.queued) + Number(values.measure);
const measured = Number(values.measure);

const priorities = [-2, -1, 0, 1, 2];
const needSets = [undefined, 'gpu', 'mem256', 'gpu,mem256'];

async function dispatchRate(mixed) {
	const sandbox = makeSandbox();
	const counter = finishCounter();
	const scheduler = startScheduler(sandbox, {onEvent: counter.onEvent});
	await scheduler.started;
	await jobdeck(sandbox, ['pause']);
	const names = numbers(workerCount).map(index => `worker-${index}`);
	const fleet = mixed
		? [[names.slice(0, workerCount / 2), ['--tag', 'gpu', '--tag', 'mem256']], [names.slice(workerCount / 2, workerCount * 3 / 4), ['--tag', 'gpu']], [names.slice(workerCount * 3 / 4), ['--tag', 'mem256']]]
		: [[names, []]];
	for (const [group, tags] of fleet) await jobdeck(sandbox, ['add-worker', '--skip-ssh-check', ...tags, ...group]);
	if (mixed) {
		// Twenty batches, one per priority and set of needs, in an order that puts them all through each other.
		const batches = priorities.flatMap(priority => needSets.map(needs => ({priority, needs})));
		const perBatch = Math.ceil(totalJobs / batches.length);
		for (const [index, {priority, needs}] of batches.entries()) {
			const count = Math.min(perBatch, totalJobs - (index * perBatch));
			await jobdeck(sandbox, ['add-job', '--priority', String(priority), ...(needs ? ['--needs', needs] : []), '--each', '/bin/true', ...numbers(count)]);
		}
	} else {
		await jobdeck(sandbox, ['add-job', '--each', '/bin/true', ...numbers(totalJobs)]);
	}

	const releasedAt = Date.now();
	await jobdeck(sandbox, ['resume']);
	const lastAt = await counter.waitFor(measured);
	await jobdeck(sandbox, ['pause']);
	await scheduler.stop();
	sandbox.remove();
	return measured / ((lastAt - releasedAt) / 1000);
}

// A B B A, so that the machine warming up or getting busier weighs on both alike.
const rounds = [];
for (const mixed of [false, true, true, false]) rounds.push({mixed, rate: await dispatchRate(mixed)});
const mean = mixed => rounds.filter(round => round.mixed === mixed).reduce((sum, round) => sum + round.rate, 0) / 2;
const fifo = mean(false);
const mixed = mean(true);
console.log(`${workerCount} one-slot workers, ${totalJobs} /bin/true jobs queued, the first ${measured} timed`);
console.log(`rounds (plain, mixed, mixed, plain): ${rounds.map(round => round.rate.toFixed(0)).join(', ')} jobs/s`);
console.log(`dispatch rate, plain first in first out              ${fifo.toFixed(0).padStart(7)} jobs/s   1.00x`);
console.log(`dispatch rate, 5 priorities x 4 sets of needed tags  ${mixed.toFixed(0).padStart(7)} jobs/s   ${(mixed / fifo).toFixed(2)}x   (target ≥ 0.80x)`);
