#!/usr/bin/env node
// Bulk queueing: `add-job --each` and `add-job --from-file` with --jobs jobs
// (100,000) against a running, paused scheduler: the client's wall time, from
// its start until every job is acknowledged (saved), and how many writes the
// journal took.
//
//   node bench/bulk.mjs [--jobs 100000]
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {jobdeck, makeSandbox, numbers, startScheduler} from './headless.mjs';

const {values} = parseArgs({options: {jobs: {type: 'string', default: '100000'}}});
const jobCount = Number(values.jobs);

async function measure(name, args, prepare) {
	const sandbox = makeSandbox();
	const scheduler = startScheduler(sandbox);
	await scheduler.started;
	await jobdeck(sandbox, ['pause']);
	prepare?.(sandbox);
	const startedAt = process.hrtime.bigint();
	const ids = (await jobdeck(sandbox, args(sandbox))).trim().split('\n');
	const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
	if (ids.length !== jobCount) throw new Error(`${name}: ${ids.length} ids printed, not ${jobCount}`);
	const queued = JSON.parse(await jobdeck(sandbox, ['status', '--json', '--finished', '0'])).queue.length;
	if (queued !== jobCount) throw new Error(`${name}: ${queued} jobs queued, not ${jobCount}`);
	const rss = scheduler.rssMegabytes();
	await scheduler.stop();
	sandbox.remove();
	return {name, seconds, rss};
}

const results = [
	await measure(`add-job --each (${jobCount} args)`, () => ['add-job', '--each', '/bin/true', ...numbers(jobCount)]),
	await measure(`add-job --from-file (${jobCount} lines)`, sandbox => ['add-job', '--from-file', join(sandbox.dir, 'jobs.txt'), '/bin/true'], sandbox => {
		writeFileSync(join(sandbox.dir, 'jobs.txt'), numbers(jobCount).join('\n') + '\n');
	}),
];
for (const result of results) {
	console.log(`${result.name.padEnd(40)}${`${result.seconds.toFixed(2)} s`.padStart(9)}   (target < 2 s: ${result.seconds < 2 ? 'met' : 'missed'})   scheduler RSS after ${result.rss.toFixed(0)} MB`);
}
