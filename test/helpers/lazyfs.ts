import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {waitFor} from './jobdeck.js';

// A file system that forgets what a power cut forgets (lazyfs.py, on FUSE):
// mount it over a backing directory, run things on the mount, cut the power,
// and the backing directory holds what a disk would have kept.

const script = resolve(import.meta.dirname, 'lazyfs.py');
// Debian's python3-fusepy is installed for the system python, not for whatever python3 comes first on PATH.
const python = '/usr/bin/python3';

export type LazyMount = {
	backing: string;
	mount: string;
	/** Forgets everything not synced, lets the mount go; resolves once the backing dir holds what was kept. */
	cut(): Promise<void>;
	/** Lets the mount go without a cut (cleanup). */
	unmount(): Promise<void>;
	output(): string;
};

export async function mountLazyFs(backing: string, mount: string): Promise<LazyMount> {
	mkdirSync(backing, {recursive: true});
	mkdirSync(mount, {recursive: true});
	const fifo = `${mount}.control`;
	rmSync(fifo, {force: true});
	const made = spawnSync('mkfifo', [fifo], {encoding: 'utf8'});
	if (made.status !== 0) throw new Error(`mkfifo ${fifo}: ${made.stderr}`);
	let output = '';
	const child: ChildProcess = spawn(python, [script, backing, mount, fifo], {stdio: ['ignore', 'pipe', 'pipe']});
	for (const stream of [child.stdout!, child.stderr!]) {
		stream.setEncoding('utf8');
		stream.on('data', (chunk: string) => {
			output += chunk;
		});
	}

	const exited = new Promise<void>(resolveExit => {
		child.once('exit', () => {
			resolveExit();
		});
	});
	const running = () => child.exitCode === null && child.signalCode === null;
	await waitFor(() => {
		if (!running()) throw new Error(`lazyfs.py exited before it mounted ${mount}: ${output}`);
		return isMounted(mount);
	}, 20_000, `lazyfs to mount ${mount}; it said: ${output}`);
	return {
		backing,
		mount,
		output: () => output,
		async cut() {
			writeFileSync(fifo, 'cut\n');
			await exited;
			await waitFor(() => !isMounted(mount), 20_000, `${mount} to be let go after the cut`);
		},
		async unmount() {
			if (isMounted(mount)) spawnSync('fusermount', ['-u', '-z', mount]);
			if (running()) child.kill('SIGKILL');
			await exited;
			rmSync(fifo, {force: true});
		},
	};
}

export function isMounted(path: string): boolean {
	// Field 5 of mountinfo is the mount point.
	return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some(line => line.split(' ')[4] === path);
}

/** Whether lazyfs can run here: FUSE (/dev/fuse, fusermount) and python3-fusepy, tried with a real mount. */
export async function lazyFsCheck(): Promise<{ok: true} | {ok: false; reason: string}> {
	if (!existsSync('/dev/fuse')) return {ok: false, reason: '/dev/fuse is missing (install fuse3; in a container, pass --device /dev/fuse)'};
	if (spawnSync('fusermount', ['-V']).status !== 0) return {ok: false, reason: 'fusermount is missing (install fuse3)'};
	const fusepy = spawnSync(python, ['-c', 'import fusepy'], {encoding: 'utf8'});
	if (fusepy.status !== 0) return {ok: false, reason: `${python} cannot import fusepy (install python3-fusepy): ${(fusepy.stderr || fusepy.error?.message || '').trim()}`};
	const probe = mkdtempSync(join(tmpdir(), 'jobdeck-lazyfs-probe-'));
	try {
		const mounted = await mountLazyFs(join(probe, 'backing'), join(probe, 'mount'));
		await mounted.unmount();
		return {ok: true};
	} catch (error) {
		return {ok: false, reason: (error as Error).message};
	} finally {
		rmSync(probe, {recursive: true, force: true});
	}
}

/** For tests that need lazyfs: a loud warning where it cannot run, and a failing test under CI. */
export function lazyFsRequired(): boolean {
	return process.env['CI'] === 'true' || process.env['JOBDECK_REQUIRE_FUSE'] === '1';
}
