#!/usr/bin/env node
// `npm run bench`: every benchmark in bench/, one after the other (they share two cores).
import {spawnSync} from 'node:child_process';
import {resolve} from 'node:path';

// dispatch: 2,000 no-ops vs xargs -P8 (and parallel when installed), then 50 ms jobs for the time lost per
// job and slot; client: add-job vs node -e 0; bulk: 100k jobs queued; scale: 100k queued, 1,000 workers;
// priority: the same with 100k spread over priorities and needed tags, vs plain first in first out;
// ui: the embedded UI on that state; attach: `jobdeck ui` on it (attach time, memory, change → other screen);
// logtail: a job's output → the output pane (and `logs -f`) vs tail -f, opening a 1 GB log vs a 1 KB one, `logs` of it vs cat.
const runs = [
	['dispatch.mjs'],
	['dispatch.mjs', '--jobs', '400', '--command', resolve(import.meta.dirname, 'sleep-50ms.sh'), '--job-ms', '50'],
	['client.mjs'],
	['bulk.mjs'],
	['scale.mjs'],
	['priority.mjs'],
	['ui.mjs'],
	['attach.mjs'],
	['logtail.mjs'],
];
for (const [script, ...args] of runs) {
	console.log(`\n== ${[script, ...args].join(' ')}`);
	const result = spawnSync('node', [resolve(import.meta.dirname, script), ...args], {stdio: 'inherit'});
	if (result.status !== 0) process.exitCode = 1;
}
