#!/usr/bin/env node
// Memory after oversized clients leave (issue 25): --clients connections each
// send --mb MB of a request without its newline to a real headless scheduler,
// hold it, then close. The scheduler's RSS (/proc/PID/status VmRSS) idle,
// while they hold, and --settle-ms after they closed, as ratios against the
// idle figure of this same run.
//
//   node bench/oversized-clients.mjs [--clients 10] [--mb 60] [--settle-ms 10000]
import {connect} from 'node:net';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {jobdeck, makeSandbox, startScheduler} from './headless.mjs';

const {values} = parseArgs({options: {clients: {type: 'string', default: '10'}, mb: {type: 'string', default: '60'}, 'settle-ms': {type: 'string', default: '10000'}}});
const sandbox = makeSandbox();
const scheduler = startScheduler(sandbox);
await scheduler.started;
await jobdeck(sandbox, ['status']);
const sleep = async ms => new Promise(resolveSleep => {
	setTimeout(resolveSleep, ms);
});
await sleep(1000);
const idle = scheduler.rssMegabytes();

const chunk = Buffer.alloc(1 << 20, 'a');
const clients = await Promise.all(Array.from({length: Number(values.clients)}, async () => new Promise((resolveClient, reject) => {
	const send = async () => {
		socket.write('{"v":4,"id":1,"method":"snapshot","params":["');
		for (let sent = 0; sent < Number(values.mb); sent++) {
			if (!socket.write(chunk)) await new Promise(resolveDrain => socket.once('drain', resolveDrain));
		}

		resolveClient(socket);
	};

	const socket = connect(join(sandbox.dataDir, 'control.sock'), () => {
		void send();
	});
	socket.on('error', reject);
})));
// Everything sent is read once the scheduler's RSS stops growing.
let held = scheduler.rssMegabytes();
for (let previous = 0; held > previous + 1; held = scheduler.rssMegabytes()) {
	previous = held;
	await sleep(500);
}

for (const socket of clients) socket.destroy();
const closedAt = Date.now();
let after = scheduler.rssMegabytes();
while (Date.now() - closedAt < Number(values['settle-ms'])) {
	await sleep(250);
	after = scheduler.rssMegabytes();
}

await scheduler.stop();
sandbox.remove();
const row = (what, mb) => console.log(`${what.padEnd(44)} ${mb.toFixed(0).padStart(6)} MiB   ${(mb / idle).toFixed(2)}x`);
console.log(`${values.clients} clients, ${values.mb} MB each without a newline`);
row('idle', idle);
row('while they hold it', held);
row(`${values['settle-ms']} ms after they closed`, after);
