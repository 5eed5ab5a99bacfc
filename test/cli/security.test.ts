import {existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {execa, type ResultPromise} from 'execa';
import {afterEach, beforeEach, expect, it} from 'vitest';
import {addJob, cliPath, createSandbox, killJobsStartedIn, waitFor, waitForStatus, type Sandbox} from '../helpers/jobdeck.js';

// Whoever can read the data dir sees every job's env; whoever can reach the
// control socket runs programs as this user. So the data dir is 0700, every
// file in it 0600, the log dir 0700 and each log 0600, also when the
// scheduler runs with a umask that would make everything world-writable.

let sandbox: Sandbox;
let scheduler: ResultPromise | undefined;

beforeEach(() => {
	sandbox = createSandbox('jobdeck-security-');
});

afterEach(async () => {
	await stopScheduler();
	killJobsStartedIn(sandbox.dir);
	await sandbox.cleanup();
});

/** `jobdeck start --headless` under `umask 000`; the paths go in as positional parameters, never into the shell's text. */
async function startWithUmask000(): Promise<number> {
	const child = execa('sh', ['-c', 'umask 000; exec node "$0" start --headless --data-dir "$1" --log-dir "$2"', cliPath, sandbox.dataDir, sandbox.logDir], {
		cwd: sandbox.dir,
		reject: false,
		stdin: 'ignore',
		all: true,
	});
	scheduler = child;
	let output = '';
	child.all.setEncoding('utf8');
	child.all.on('data', (chunk: string) => {
		output += chunk;
	});
	await waitFor(() => output.includes('scheduler running on'), undefined, () => `the scheduler to start; it printed: ${output}`);
	const pid = child.pid!;
	// exec: the shell became the scheduler, with the umask it set.
	expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Umask:\s+0000$/m);
	return pid;
}

async function stopScheduler(): Promise<void> {
	if (!scheduler) return;
	if (scheduler.exitCode === null && scheduler.signalCode === null) scheduler.kill('SIGTERM');
	await scheduler;
	scheduler = undefined;
}

type Entry = {path: string; kind: 'directory' | 'file' | 'socket' | 'other'; mode: number};

function entriesUnder(dir: string): Entry[] {
	const entries: Entry[] = [];
	const visit = (path: string) => {
		const info = lstatSync(path);
		const kind = info.isDirectory() ? 'directory' : info.isFile() ? 'file' : info.isSocket() ? 'socket' : 'other';
		entries.push({path, kind, mode: info.mode & 0o7777});
		if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
	};

	visit(dir);
	return entries;
}

const octal = (mode: number) => `0${mode.toString(8)}`;

/** Every directory 0700; every file and socket 0600. */
function expectPrivate(dir: string): Entry[] {
	const entries = entriesUnder(dir);
	const shown = entries.map(entry => `${octal(entry.mode)} ${entry.kind} ${entry.path.slice(sandbox.dir.length + 1)}`);
	const expected = entries.map(entry => `${octal(entry.kind === 'directory' ? 0o700 : 0o600)} ${entry.kind} ${entry.path.slice(sandbox.dir.length + 1)}`);
	expect(shown).toEqual(expected);
	return entries;
}

const names = (entries: Entry[]) => entries.map(entry => entry.path.slice(sandbox.dir.length + 1)).sort();

it('keeps the data dir, its files, the log dir and the logs private under umask 000, while a job runs, after it, and after a restart', async () => {
	const pid = await startWithUmask000();
	// The job records the umask it runs with, makes a file, then waits to be released.
	sandbox.script('job.sh', '#!/bin/sh\numask > "umask.$JOB_ID"\n: > "made.$JOB_ID"\necho "secret output of $JOB_ID"\nwhile [ ! -e "release.$JOB_ID" ]; do sleep 0.05; done\n');
	expect((await sandbox.run(['add-worker', '--skip-ssh-check', '-e', 'TOKEN=hunter2', 'w1'])).exitCode).toBe(0);
	const first = await addJob(sandbox, ['-e', 'PASSWORD=secret', './job.sh']);
	const running = await waitForStatus(sandbox, view => view.running.some(run => run.id === first && run.pid !== undefined));
	const {runId} = running.running[0]!;
	await waitFor(() => existsSync(join(sandbox.dir, `made.${runId}`)));

	// While it runs: the socket, the lock, the state, the journal, the run's exit file, its log.
	const whileRunning = [...expectPrivate(sandbox.dataDir), ...expectPrivate(sandbox.logDir)];
	expect(names(whileRunning)).toEqual(expect.arrayContaining([
		'.data',
		'.data/control.sock',
		'.data/scheduler.lock',
		'.data/state.json',
		'.data/journal.jsonl',
		'.data/history.jsonl',
		'.data/runs',
		`.data/runs/${runId}.exit`,
		'logs',
		`logs/job_${runId}.txt`,
	]));
	// The job itself keeps the scheduler's umask: jobdeck's own files are private, the job's are its business.
	expect(readFileSync(join(sandbox.dir, `umask.${runId}`), 'utf8').trim()).toBe('0000');
	expect(octal(lstatSync(join(sandbox.dir, `made.${runId}`)).mode & 0o777)).toBe('0666');

	writeFileSync(join(sandbox.dir, `release.${runId}`), '');
	await waitForStatus(sandbox, view => view.finished.some(run => run.id === first));
	expect(readFileSync(join(sandbox.dataDir, 'history.jsonl'), 'utf8')).toContain('PASSWORD');
	expectPrivate(sandbox.dataDir);
	expectPrivate(sandbox.logDir);

	// A restart writes a fresh snapshot and keeps the one before it (state.json.prev).
	expect((await sandbox.run(['stop'])).exitCode).toBe(0);
	await scheduler;
	scheduler = undefined;
	expect(existsSync(join('/proc', String(pid)))).toBe(false);
	await startWithUmask000();
	const second = await addJob(sandbox, ['./job.sh']);
	const again = await waitForStatus(sandbox, view => view.running.some(run => run.id === second && run.pid !== undefined));
	const secondRunId = again.running[0]!.runId;
	await waitFor(() => existsSync(join(sandbox.dir, `made.${secondRunId}`)));
	writeFileSync(join(sandbox.dir, `release.${secondRunId}`), '');
	await waitForStatus(sandbox, view => view.finished.some(run => run.id === second));
	expect(names(expectPrivate(sandbox.dataDir))).toEqual(expect.arrayContaining(['.data/state.json.prev', '.data/state.json']));
	expect(names(expectPrivate(sandbox.logDir))).toEqual(['logs', `logs/job_${runId}.txt`, `logs/job_${secondRunId}.txt`]);
});

it('takes group and other access away from a data dir that already existed', async () => {
	mkdirSync(sandbox.dataDir, {mode: 0o777});
	const {chmodSync} = await import('node:fs');
	chmodSync(sandbox.dataDir, 0o777);
	await startWithUmask000();
	expect(octal(lstatSync(sandbox.dataDir).mode & 0o7777)).toBe('0700');
	expectPrivate(sandbox.dataDir);
});
