import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import type {StatusJson} from '../../source/core/status-json.js';
import {createSandbox, type Sandbox} from '../helpers/jobdeck.js';
import {checkSshd, closedPort, startSshFleet, type SshFleet, type SshServer} from '../helpers/sshd.js';

// `add-worker` logs in to each worker with non-interactive ssh before adding
// it. Against real sshd servers: one that accepts our key, one that only
// takes passwords (which BatchMode ssh never sends), a key it does not know,
// a closed port, and names that try to be ssh options.

const sshd = checkSshd();
if (!sshd.available) {
	console.warn(`\n${'!'.repeat(100)}\nSKIPPED: the ssh check tests (real sshd) cannot run here: ${sshd.reason}.\nThey are reported as skipped, NOT passed. CI must run them: .ci/run installs openssh-server and rsync.\n${'!'.repeat(100)}\n`);
	if (process.env['JOBDECK_REQUIRE_SSHD'] === '1') {
		test('sshd is required here (JOBDECK_REQUIRE_SSHD=1)', () => {
			expect.fail(`sshd cannot run: ${sshd.reason}`);
		});
	}
}

describe.skipIf(!sshd.available)('add-worker\'s ssh check against real sshd servers', () => {
	let fleet: SshFleet;
	let sandbox: Sandbox;
	let good: SshServer;
	let closed: number;

	beforeAll(async () => {
		fleet = await startSshFleet([
			{name: 'good', address: '127.0.0.2'},
			{name: 'password', address: '127.0.0.3', passwordOnly: true},
		]);
		good = fleet.server('good');
		closed = await closedPort('127.0.0.4');
		sandbox = createSandbox('jobdeck-ssh-check-');
		const config = fleet.writeClientConfig(join(sandbox.dir, 'ssh_config'), [
			{host: 'good-alias', server: 'good'},
			{host: 'other-alias', server: 'good'},
			{host: 'wants-password', server: 'password'},
			{host: 'unknown-key', server: 'good', strangerKey: true},
			{host: 'closed-port', hostName: '127.0.0.4', port: closed},
		]);
		await sandbox.startScheduler([], {env: {JOBDECK_SSH_CONFIG: config}});
	});

	afterAll(async () => {
		// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
		await sandbox?.cleanup();
		// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
		await fleet?.stop();
	});

	async function workerNames(): Promise<string[]> {
		const result = await sandbox.run(['status', '--json']);
		expect(result.exitCode).toBe(0);
		return (JSON.parse(result.stdout) as StatusJson).workers.map(worker => worker.name).sort();
	}

	function acceptedLogins(): number {
		return good.log().split('\n').filter(line => line.startsWith('Accepted publickey for root')).length;
	}

	test('a worker that accepts the key passes, named by alias, user@host:port, or host with -e PORT=', async () => {
		const before = acceptedLogins();
		expect(await sandbox.run(['add-worker', 'good-alias'])).toMatchObject({exitCode: 0, stdout: 'added worker good-alias (1 slot)\n'});
		// No Host entry for 127.0.0.2: the port comes from the name (as ssh://root@127.0.0.2:PORT)…
		expect(await sandbox.run(['add-worker', `root@127.0.0.2:${good.port}`])).toMatchObject({exitCode: 0});
		// …or from the worker's env.
		expect(await sandbox.run(['add-worker', '-e', `PORT=${good.port}`, '-e', 'USER=root', '127.0.0.2'])).toMatchObject({exitCode: 0});
		// Each really logged in to the server.
		expect(acceptedLogins() - before).toBe(3);
		expect(await workerNames()).toEqual(['127.0.0.2', 'good-alias', `root@127.0.0.2:${good.port}`].sort());
	});

	test.each([
		['a server that wants a password', 'wants-password', /^jobdeck: worker wants-password failed the ssh check \(.*Permission denied \(password\)\.\); make sure `ssh -F \S+\/ssh_config wants-password true` works without a password, or add it with --skip-ssh-check\n$/],
		['a server that does not know our key', 'unknown-key', /^jobdeck: worker unknown-key failed the ssh check \(.*Permission denied \(publickey\)\.\)/],
		['a closed port', 'closed-port', /^jobdeck: worker closed-port failed the ssh check \(ssh: connect to host 127\.0\.0\.4 port \d+: Connection refused\)/],
	])('%s is refused with a clear message, and nothing is added', async (_what, name, message) => {
		const before = await workerNames();
		const result = await sandbox.run(['add-worker', name]);
		expect(result).toMatchObject({exitCode: 1, stdout: ''});
		expect(result.stderr).toMatch(message);
		expect(await workerNames()).toEqual(before);
	});

	test('the port in the worker\'s env is the one checked', async () => {
		const before = await workerNames();
		// other-alias reaches the good server through the config; a PORT in its env overrides that.
		const wrongPort = await sandbox.run(['add-worker', '-e', `PORT=${await closedPort('127.0.0.2')}`, 'other-alias']);
		expect(wrongPort).toMatchObject({exitCode: 1});
		expect(wrongPort.stderr).toMatch(/^jobdeck: worker other-alias failed the ssh check \(ssh: connect to host 127\.0\.0\.2 port \d+: Connection refused\)/);
		expect(await workerNames()).toEqual(before);
	});

	test('a batch with one bad worker adds none of them', async () => {
		const before = await workerNames();
		const result = await sandbox.run(['add-worker', 'other-alias', 'wants-password']);
		expect(result.exitCode).toBe(1);
		expect(result.stderr).toMatch(/worker wants-password failed the ssh check/);
		expect(await workerNames()).toEqual(before);
		expect(before).not.toContain('other-alias');
	});

	test('a name that looks like an ssh option is refused, before ssh ever sees it', async () => {
		const marker = join(sandbox.dir, 'proxy-command-ran');
		const before = await workerNames();
		for (const args of [
			['add-worker', '--', `-oProxyCommand=touch ${marker}`],
			['add-worker', '--skip-ssh-check', '--', `-oProxyCommand=touch ${marker}`],
			['add-worker', 'good-alias-2', '--', `-oProxyCommand=touch ${marker}`],
		]) {
			const result = await sandbox.run(args);
			expect(result, args.join(' ')).toMatchObject({exitCode: 1, stdout: ''});
			const name = `-oProxyCommand=touch ${marker}`;
			expect(result.stderr).toBe(`jobdeck: worker name "${name.length > 60 ? `${name.slice(0, 60)}…` : name}" starts with "-" and could be read as an option\n`);
		}

		// Without `--` the command line itself takes it for an (unknown) option of ours.
		const unquoted = await sandbox.run(['add-worker', `-oProxyCommand=touch ${marker}`]);
		expect(unquoted.exitCode).not.toBe(0);
		expect(unquoted.stderr).toMatch(/unknown option '-oProxyCommand/);

		expect(existsSync(marker)).toBe(false);
		expect(await workerNames()).toEqual(before);
	});
});
