#!/usr/bin/env node
// Summarises a V8 .cpuprofile: the functions with the most self time, and
// their share of all samples (idle and GC included, so the shares add up).
//
//   node bench/profile-summary.mjs PROFILE.cpuprofile [--top 25] [--from SECONDS] [--to SECONDS]
//
// --from/--to SECONDS count only the samples taken in that stretch after the
// profile started: an idle stretch without the start-up before it.
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';

const {values, positionals} = parseArgs({allowPositionals: true, options: {top: {type: 'string', default: '25'}, from: {type: 'string', default: '0'}, to: {type: 'string', default: 'Infinity'}}});
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map(node => [node.id, node]));
// Sample i lasted timeDeltas[i + 1]; the last one is counted as the mean.
const selfMicros = new Map();
let total = 0;
let sampledAt = profile.startTime;
const fromMicros = profile.startTime + Number(values.from) * 1e6;
const toMicros = profile.startTime + Number(values.to) * 1e6;
for (const [index, id] of profile.samples.entries()) {
	sampledAt += profile.timeDeltas[index];
	const micros = profile.timeDeltas[index + 1] ?? (profile.endTime - profile.startTime) / profile.samples.length;
	if (sampledAt < fromMicros || sampledAt > toMicros) continue;
	selfMicros.set(id, (selfMicros.get(id) ?? 0) + micros);
	total += micros;
}

const byFunction = new Map();
for (const [id, micros] of selfMicros) {
	const {callFrame} = nodes.get(id);
	const file = callFrame.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1');
	const key = `${callFrame.functionName || '(anonymous)'} ${file}${file ? `:${callFrame.lineNumber + 1}` : ''}`;
	byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
}

const byPlace = new Map();
for (const [key, micros] of byFunction) {
	const place = /node_modules\/([^/]+)/.exec(key)?.[1] ?? (key.includes('dist/') ? 'jobdeck' : (key.includes('node:') ? 'node internals' : key.split(' ')[0]));
	byPlace.set(place, (byPlace.get(place) ?? 0) + micros);
}

const percent = micros => `${(micros / total * 100).toFixed(1)}%`.padStart(6);
console.log(`${(total / 1e6).toFixed(2)} s sampled`);
console.log('\nself time by function:');
for (const [key, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${percent(micros)}  ${key}`);
console.log('\nself time by package:');
for (const [place, micros] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${percent(micros)}  ${place}`);
