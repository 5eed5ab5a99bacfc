#!/usr/bin/env node
// Client start-up: `jobdeck add-job` against a running (paused) scheduler,
// next to `node -e 0` (the floor for any node CLI), both measured in this run,
// alternating, median of --runs.
//
//   node bench/client.mjs [--runs 20]
import {execFileSync} from 'node:child_process';
import {parseArgs} from 'node:util';
import {cli, jobdeck, makeSandbox, median, startScheduler} from './headless.mjs';

const {values} = parseArgs({options: {runs: {type: 'string', default: '20'}}});
const sandbox = makeSandbox();
const scheduler = startScheduler(sandbox);
await scheduler.started;
await jobdeck(sandbox, ['pause']);

const time = (args, cwd) => {
	const startedAt = process.hrtime.bigint();
	execFileSync('node', args, {cwd, stdio: ['ignore', 'ignore', 'inherit']});
	return Number(process.hrtime.bigint() - startedAt) / 1e6;
};

const floor = [];
const client = [];
for (let run = 0; run < Number(values.runs); run++) {
	floor.push(time(['-e', '0'], sandbox.dir));
	client.push(time([cli, 'add-job', '--data-dir', sandbox.dataDir, '/bin/true', String(run)], sandbox.dir));
}

await scheduler.stop();
sandbox.remove();
const floorMs = median(floor);
const clientMs = median(client);
console.log(`median of ${values.runs} runs each, alternating`);
console.log(`node -e 0                         ${floorMs.toFixed(1).padStart(7)} ms   1.00x`);
console.log(`jobdeck add-job (one job)         ${clientMs.toFixed(1).padStart(7)} ms   ${(clientMs / floorMs).toFixed(2)}x   (target ≤ 1.3x)`);
