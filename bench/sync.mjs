#!/usr/bin/env node
// What durability costs: each figure with the state fsync'd (the default) and
// with `start --no-sync`, side by side in the same run, alternating, median
// of --rounds:
//   - one `add-job` against a running, paused scheduler (client wall time);
//   - one `add-job --each` of --bulk jobs (100,000), until all are acknowledged;
//   - dispatch: --jobs /bin/true jobs over 8 one-slot workers, jobs per second.
//
//   node bench/sync.mjs [--rounds 3] [--adds 15] [--bulk 100000] [--jobs 2000]
import {execFileSync} from 'node:child_process';
import {parseArgs} from 'node:util';
import {cli, finishCounter, jobdeck, makeSandbox, median, numbers, startScheduler} from './headless.mjs';

const {values} = parseArgs({options: {
	rounds: {type: 'string', default: '3'},
	adds: {type: 'string', default: '15'},
	bulk: {type: 'string', default: '100000'},
	jobs: {type: 'string', default: '2000'},
}});
const modes = [{name: 'sync', args: []}, {name: 'no-sync', args: ['--no-sync']}];

async function withScheduler(mode, run, onEvent) {
	const sandbox = makeSandbox();
	const scheduler = startScheduler(sandbox, {args: mode.args, onEvent});
	await scheduler.started;
	try {
		return await run(sandbox);
	} finally {
		await scheduler.stop();
		sandbox.remove();
	}
}

const seconds = startedAt => Number(process.hrtime.bigint() - startedAt) / 1e9;

async function singleAdd(mode) {
	return withScheduler(mode, async sandbox => {
		await jobdeck(sandbox, ['pause']);
		const times = [];
		for (let run = 0; run < Number(values.adds); run++) {
			const startedAt = process.hrtime.bigint();
			execFileSync('node', [cli, 'add-job', '--data-dir', sandbox.dataDir, '/bin/true', String(run)], {cwd: sandbox.dir, stdio: ['ignore', 'ignore', 'inherit']});
			times.push(seconds(startedAt) * 1000);
		}

		return median(times);
	});
}

async function bulkAdd(mode) {
	return withScheduler(mode, async sandbox => {
		await jobdeck(sandbox, ['pause']);
		const startedAt = process.hrtime.bigint();
		const ids = (await jobdeck(sandbox, ['add-job', '--each', '/bin/true', ...numbers(Number(values.bulk))])).trim().split('\n');
		if (ids.length !== Number(values.bulk)) throw new Error(`${ids.length} ids, not ${values.bulk}`);
		return seconds(startedAt);
	});
}

async function dispatch(mode) {
	const counter = finishCounter();
	return withScheduler(mode, async sandbox => {
		await jobdeck(sandbox, ['pause']);
		await jobdeck(sandbox, ['add-worker', '--skip-ssh-check', ...numbers(8).map(index => `worker-${index}`)]);
		await jobdeck(sandbox, ['add-job', '--each', '/bin/true', ...numbers(Number(values.jobs))]);
		const releasedAt = Date.now();
		await jobdeck(sandbox, ['resume']);
		const lastAt = await counter.waitFor(Number(values.jobs));
		return Number(values.jobs) / ((lastAt - releasedAt) / 1000);
	}, counter.onEvent);
}

const measures = [
	{name: 'one add-job (ms, client wall time)', run: singleAdd, lowerIsBetter: true},
	{name: `add-job --each of ${values.bulk} jobs (s)`, run: bulkAdd, lowerIsBetter: true},
	{name: `dispatch, ${values.jobs} /bin/true over 8 workers (jobs/s)`, run: dispatch, lowerIsBetter: false},
];
const results = measures.map(() => ({sync: [], 'no-sync': []}));
for (let round = 0; round < Number(values.rounds); round++) {
	for (const [index, measure] of measures.entries()) {
		// Alternating which goes first, so that neither always gets the warmer machine.
		for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) results[index][mode.name].push(await measure.run(mode));
	}
}

console.log(`median of ${values.rounds} rounds; the ratio is sync's cost (>1: sync is slower)`);
for (const [index, measure] of measures.entries()) {
	const sync = median(results[index].sync);
	const noSync = median(results[index]['no-sync']);
	const ratio = measure.lowerIsBetter ? sync / noSync : noSync / sync;
	console.log(`${measure.name.padEnd(55)} sync ${sync.toFixed(2).padStart(9)}   no-sync ${noSync.toFixed(2).padStart(9)}   ratio ${ratio.toFixed(2)}`);
}
