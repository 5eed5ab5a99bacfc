import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {defaultWaitMs} from './jobdeck.js';

// Real OpenSSH servers on loopback addresses (127.0.0.2, 127.0.0.3, …), each on
// a free port, for the ssh end-to-end tests. Everything they need lives in one
// temp dir: a host key, an authorized client key, a second client key that is
// NOT authorized, each server's sshd_config, and the client ssh config files
// that job scripts and jobdeck's ssh check are pointed at with -F. No system
// file is read or written, except that sshd needs its privilege separation
// dir /run/sshd to exist.

/** JOBDECK_TEST_SSHD points elsewhere, e.g. to see how the tests behave where there is no sshd. */
export const sshdPath = process.env['JOBDECK_TEST_SSHD'] ?? '/usr/sbin/sshd';

export type SshdAvailability = {available: true} | {available: false; reason: string};

/**
 * Whether real sshd servers can be started here: sshd, ssh, ssh-keygen and
 * rsync installed, and `sshd -t` happy with a config like the tests'. Synchronous,
 * so that a test file can decide at collection time to skip (loudly).
 */
export function checkSshd(): SshdAvailability {
	if (!existsSync(sshdPath)) return {available: false, reason: `${sshdPath} is not installed (apt-get install openssh-server)`};
	for (const tool of ['ssh', 'ssh-keygen', 'rsync']) {
		const found = spawnSync('sh', ['-c', `command -v ${tool}`], {encoding: 'utf8'});
		if (found.status !== 0) return {available: false, reason: `${tool} is not installed`};
	}

	try {
		mkdirSync('/run/sshd', {recursive: true, mode: 0o755});
	} catch (error) {
		return {available: false, reason: `cannot create sshd's privilege separation dir /run/sshd: ${(error as Error).message}`};
	}

	const dir = mkdtempSync(join(tmpdir(), 'jobdeck-sshd-check-'));
	try {
		const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')], {encoding: 'utf8'});
		if (keygen.status !== 0) return {available: false, reason: `ssh-keygen failed: ${keygen.stderr.trim()}`};
		const config = join(dir, 'sshd_config');
		writeFileSync(config, sshdConfig({dir, address: '127.0.0.1', port: 22, passwordOnly: false, hostKey: join(dir, 'host_key'), authorizedKeys: join(dir, 'authorized_keys')}));
		const test = spawnSync(sshdPath, ['-t', '-f', config], {encoding: 'utf8'});
		if (test.status !== 0) return {available: false, reason: `\`sshd -t\` refuses to run: ${(test.stderr || test.error?.message || '').trim()}`};
		return {available: true};
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

export type ServerSpec = {
	/** How the tests refer to it. */
	name: string;
	/** A loopback address of its own, such as 127.0.0.2. */
	address: string;
	/** Accepts passwords only (which BatchMode ssh never sends): the "wants a password" worker. */
	passwordOnly?: boolean;
};

export type ProcessInfo = {pid: number; ppid: number; pgid: number; command: string};

export type SshServer = {
	name: string;
	address: string;
	port: number;
	passwordOnly: boolean;
	/** The listening sshd (started with -D, so our child). */
	pid: number;
	/** sshd's own log (-e: to stderr), for failure messages. */
	log(): string;
	/** Every process under this sshd: its sessions and the commands they run, i.e. "the remote machine". */
	processes(): ProcessInfo[];
	/** The machine goes away: SIGKILL to the listener, its sessions and everything they run. */
	kill(): Promise<void>;
	readonly running: boolean;
};

export type HostEntry = {
	/** The Host pattern: an alias (node-c), or the address itself (127.0.0.2). */
	host: string;
	/** The server it reaches (HostName and Port come from it)… */
	server?: string;
	/** …or an explicit HostName/Port, e.g. for a port nobody listens on. */
	hostName?: string;
	port?: number;
	/** Use the key that no server authorizes. */
	strangerKey?: boolean;
};

export type SshFleet = {
	dir: string;
	/** The authorized client key (private half). */
	clientKey: string;
	/** A client key that no server authorizes. */
	strangerKey: string;
	knownHosts: string;
	servers: Map<string, SshServer>;
	server(name: string): SshServer;
	/** Writes a client ssh config: the given Host entries, then `Host *` with our key and known_hosts. */
	writeClientConfig(file: string, hosts: HostEntry[]): string;
	/** The machine comes back: a killed server starts again on its address and port. */
	revive(name: string): Promise<SshServer>;
	/** Kills every server and removes the directory. */
	stop(): Promise<void>;
};

export async function startSshFleet(specs: ServerSpec[]): Promise<SshFleet> {
	mkdirSync('/run/sshd', {recursive: true, mode: 0o755});
	const dir = mkdtempSync(join(tmpdir(), 'jobdeck-sshd-'));
	const hostKey = join(dir, 'host_key');
	const clientKey = join(dir, 'client_key');
	const strangerKey = join(dir, 'stranger_key');
	for (const key of [hostKey, clientKey, strangerKey]) keygen(key);
	const authorizedKeys = join(dir, 'authorized_keys');
	writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`, 'utf8'), {mode: 0o600});
	const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
	const knownHosts = join(dir, 'known_hosts');

	const servers = new Map<string, SshServer>();
	const fleet: SshFleet = {
		dir,
		clientKey,
		strangerKey,
		knownHosts,
		servers,
		server(name) {
			const server = servers.get(name);
			if (!server) throw new Error(`no sshd named ${name}`);
			return server;
		},
		writeClientConfig(file, hosts) {
			const blocks = hosts.map(entry => {
				const server = entry.server === undefined ? undefined : fleet.server(entry.server);
				const hostName = entry.hostName ?? server?.address ?? entry.host;
				const port = entry.port ?? server?.port;
				return [
					`Host ${entry.host}`,
					`\tHostName ${hostName}`,
					...(port === undefined ? [] : [`\tPort ${port}`]),
					'\tUser root',
					...(entry.strangerKey ? [`\tIdentityFile ${strangerKey}`] : []),
				].join('\n');
			});
			// IdentityFile adds to a list rather than replacing it: the stranger hosts must not get ours too.
			const strangers = hosts.filter(entry => entry.strangerKey).map(entry => ` !${entry.host}`).join('');
			blocks.push(`Host *${strangers}\n\tIdentityFile ${clientKey}`);
			blocks.push([
				'Host *',
				'\tIdentitiesOnly yes',
				'\tIdentityAgent none',
				`\tUserKnownHostsFile ${knownHosts}`,
				'\tGlobalKnownHostsFile /dev/null',
				'\tStrictHostKeyChecking accept-new',
				'\tCheckHostIP no',
				'\tUpdateHostKeys no',
				'\tPasswordAuthentication no',
				'\tKbdInteractiveAuthentication no',
				'\tConnectTimeout 5',
				'\tLogLevel ERROR',
			].join('\n'));
			writeFileSync(file, blocks.join('\n\n') + '\n', {mode: 0o600});
			return file;
		},
		async revive(name) {
			const dead = fleet.server(name);
			if (dead.running) throw new Error(`sshd ${name} is still running`);
			const server = await launch({name, address: dead.address, passwordOnly: dead.passwordOnly}, dead.port, join(dir, `sshd_config-${name}`));
			servers.set(name, server);
			return server;
		},
		async stop() {
			await Promise.all([...servers.values()].map(async server => server.kill()));
			rmSync(dir, {recursive: true, force: true});
		},
	};

	try {
		for (const spec of specs) {
			servers.set(spec.name, await startServer(dir, spec, hostKey, authorizedKeys));
		}
	} catch (error) {
		await fleet.stop();
		throw error;
	}

	// Every server shares the host key; known_hosts lists each [address]:port up front, so
	// that parallel first connections never race to append to it.
	writeFileSync(knownHosts, [...servers.values()].map(server => `[${server.address}]:${server.port} ${hostPublicKey}\n`).join(''), {mode: 0o600});
	return fleet;
}

function keygen(file: string): void {
	const result = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'jobdeck-test', '-f', file], {encoding: 'utf8'});
	if (result.status !== 0) throw new Error(`ssh-keygen -f ${file} failed: ${result.stderr}`);
}

function sshdConfig(options: {dir: string; address: string; port: number; passwordOnly: boolean; hostKey: string; authorizedKeys: string}): string {
	return [
		`ListenAddress ${options.address}:${options.port}`,
		`HostKey ${options.hostKey}`,
		`PidFile ${join(options.dir, `sshd-${options.address}-${options.port}.pid`)}`,
		`AuthorizedKeysFile ${options.authorizedKeys}`,
		'StrictModes no',
		'PermitRootLogin yes',
		'UsePAM no',
		'UseDNS no',
		'PermitUserRC no',
		'PrintMotd no',
		'PrintLastLog no',
		'MaxStartups 100',
		'MaxSessions 100',
		'KbdInteractiveAuthentication no',
		...(options.passwordOnly
			? ['PubkeyAuthentication no', 'PasswordAuthentication yes', 'AuthenticationMethods password']
			: ['PubkeyAuthentication yes', 'PasswordAuthentication no']),
	].join('\n') + '\n';
}

async function startServer(dir: string, spec: ServerSpec, hostKey: string, authorizedKeys: string): Promise<SshServer> {
	let lastError: Error | undefined;
	// A free port can be taken between our probe and sshd's bind: try a few.
	for (let attempt = 0; attempt < 5; attempt++) {
		const port = await freePort(spec.address);
		const config = join(dir, `sshd_config-${spec.name}`);
		writeFileSync(config, sshdConfig({dir, address: spec.address, port, passwordOnly: spec.passwordOnly ?? false, hostKey, authorizedKeys}));
		try {
			return await launch(spec, port, config);
		} catch (error) {
			lastError = error as Error;
			if (!/already in use/i.test(lastError.message)) throw lastError;
		}
	}

	throw lastError ?? new Error('sshd did not start');
}

async function launch(spec: ServerSpec, port: number, config: string): Promise<SshServer> {
	const child: ChildProcess = spawn(sshdPath, ['-D', '-e', '-f', config], {stdio: ['ignore', 'ignore', 'pipe']});
	let log = '';
	child.stderr!.setEncoding('utf8');
	child.stderr!.on('data', (chunk: string) => {
		log += chunk;
	});
	const exited = new Promise<void>(resolve => {
		child.once('exit', () => resolve());
	});
	// Set by the exit handler: `as boolean` keeps the type checker from taking it for always true.
	let running = true as boolean;
	void exited.then(() => {
		running = false;
	});

	const deadline = Date.now() + defaultWaitMs;
	while (!log.includes('Server listening on')) {
		if (!running) throw new Error(`sshd ${spec.name} on ${spec.address}:${port} exited: ${log.trim()}`);
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`sshd ${spec.name} on ${spec.address}:${port} did not start listening: ${log.trim()}`);
		}

		await sleep(20);
	}

	const pid = child.pid!;
	return {
		name: spec.name,
		address: spec.address,
		port,
		passwordOnly: spec.passwordOnly ?? false,
		pid,
		log: () => log,
		processes: () => (running ? descendantsOf(pid) : []),
		get running() {
			return running;
		},
		async kill() {
			if (!running) return;
			// Sessions are in sessions of their own (sshd calls setsid), so they are found by parentage.
			// Kill from the top: the listener first, so that it accepts nothing new meanwhile.
			const victims = [pid, ...descendantsOf(pid).map(process => process.pid)];
			for (const victim of victims) {
				try {
					process.kill(victim, 'SIGKILL');
				} catch {
					// Already gone.
				}
			}

			await exited;
			// A session forked while we were killing would be left: sweep once more.
			for (const orphan of victims.flatMap(victim => descendantsOf(victim))) {
				try {
					process.kill(orphan.pid, 'SIGKILL');
				} catch {
					// Already gone.
				}
			}
		},
	};
}

/** Every process below `root`, found through /proc's parent links. */
export function descendantsOf(root: number): ProcessInfo[] {
	const all = listProcesses();
	const children = new Map<number, ProcessInfo[]>();
	for (const info of all) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info]);
	const found: ProcessInfo[] = [];
	const pending = [root];
	while (pending.length > 0) {
		for (const child of children.get(pending.pop()!) ?? []) {
			found.push(child);
			pending.push(child.pid);
		}
	}

	return found;
}

export function listProcesses(): ProcessInfo[] {
	const processes: ProcessInfo[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (fields[0] === 'Z' || fields[0] === 'X') continue;
			const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
			processes.push({pid: Number(entry), ppid: Number(fields[1]), pgid: Number(fields[2]), command});
		} catch {
			// The process ended while the list was read.
		}
	}

	return processes;
}

async function freePort(address: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, address, () => {
			const {port} = server.address() as {port: number};
			server.close(() => resolve(port));
		});
	});
}

/** A port on `address` that nothing listens on (at the moment it is returned). */
export async function closedPort(address: string): Promise<number> {
	return freePort(address);
}

async function sleep(ms: number): Promise<void> {
	return new Promise(resolve => {
		setTimeout(resolve, ms);
	});
}
