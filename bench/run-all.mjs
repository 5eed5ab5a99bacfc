#!/usr/bin/env node
// `npm run bench`: every benchmark in bench/, one after the other (they share two cores).
import {spawnSync} from 'node:child_process';
import {resolve} from 'node:path';

for (const script of ['dispatch.mjs', 'ui.mjs']) {
	console.log(`\n== ${script}`);
	const result = spawnSync('node', [resolve(import.meta.dirname, script)], {stdio: 'inherit'});
	if (result.status !== 0) process.exitCode = 1;
}
