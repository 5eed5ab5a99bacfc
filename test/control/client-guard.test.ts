import {mkdirSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createSandbox, type Sandbox} from '../helpers/jobdeck.js';

// The client's side of the socket: whatever comes back on it, the command
// says in one line what went wrong and exits non-zero; it never crashes with
// a stack trace. A real jobdeck command talks to a real socket here, on which
// a stand-in answers every request line with `answer`.

let sandbox: Sandbox | undefined;
let server: Server | undefined;

afterEach(async () => {
	await new Promise<void>(resolve => {
		if (server) server.close(() => resolve());
		else resolve();
	});
	server = undefined;
	await sandbox?.cleanup();
	sandbox = undefined;
});

async function serveAnswering(answer: string): Promise<Sandbox> {
	sandbox = createSandbox();
	mkdirSync(sandbox.dataDir, {recursive: true, mode: 0o700});
	server = createServer(socket => {
		socket.on('error', () => undefined);
		socket.on('data', () => socket.write(answer));
	});
	await new Promise<void>(resolve => server!.listen(join(sandbox!.dataDir, 'control.sock'), resolve));
	return sandbox;
}

describe('a client reading a line that is no reply', () => {
	it.each([
		['not JSON', 'this is { not json\n'],
		['JSON but no object', '42\n'],
		['an object that is no reply', '{"hello":"there"}\n'],
		['an error without a message', '{"id":1,"error":7}\n'],
		['events that are no list', '{"events":"many"}\n'],
		['control bytes', '\u0000\u001B[2J\n'],
	])('says so in one line and exits 1 (%s)', async (_label, answer) => {
		const box = await serveAnswering(answer);
		for (const args of [['pause'], ['status'], ['events'], ['wait', '1']]) {
			const result = await box.run(args);
			expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(1);
			expect(result.stderr).toMatch(new RegExp(`^jobdeck: the scheduler at ${box.dataDir} sent a line that is not a control-protocol reply: .*\\n$`));
			expect(result.stdout).toBe('');
		}
	});
});
