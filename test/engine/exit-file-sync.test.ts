import {spawn, spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {wrapperName} from '../../source/engine/job-process.js';
import {encodeStartRequest} from '../../source/engine/job-starter/protocol.js';
import {starterKinds} from '../helpers/starters.js';

// Both job starters, run under strace: the starter itself makes a job's exit
// file, before it forks the wrapper (so that a file that cannot be made is
// the scheduler's fault, and nothing runs); the wrapper makes it reach the
// disk before the job runs (the file and runs/), and its status before it
// exits (a temporary file synced, renamed into place, runs/ synced), so
// before the starter reports the end to the scheduler.

const strace = spawnSync('strace', ['-V'], {encoding: 'utf8'});
const straceMissing = strace.status === 0 ? undefined : 'strace is not installed (apt-get install strace)';
if (straceMissing) {
	console.warn(`\n${'!'.repeat(100)}\nSKIPPED: ${straceMissing}, so the order of the wrapper's syncs is not checked.\n${'!'.repeat(100)}\n`);
	if (process.env['CI'] === 'true') {
		it('strace is required under CI', () => {
			expect.fail(straceMissing);
		});
	}
}


const built = resolve(import.meta.dirname, '../../dist/engine/job-starter');
const dirs: string[] = [];

afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

/** Runs one job through a starter under `strace -f`; returns the trace's lines, in the order the calls were made. */
async function traceOneJob(kind: 'perl' | 'node', dir: string, script: string, env: Record<string, string> = {}): Promise<string[]> {
	const command = kind === 'perl' ? ['perl', join(built, 'starter.pl'), wrapperName, ' '.repeat(1024)] : [process.execPath, join(built, 'main.js')];
	const traceFile = join(dir, 'trace');
	const starter = spawn('strace', ['-f', '-qq', '-y', '-s', '200', '-o', traceFile, '-e', 'trace=openat,fsync,fdatasync,rename,renameat,renameat2,execve,write', '--', ...command], {stdio: ['pipe', 'pipe', 'inherit'], env: {...process.env, ...env}});
	let replies = '';
	const exited = new Promise<void>((resolveExit, reject) => {
		starter.stdout.on('data', (chunk: Buffer) => {
			replies += chunk.toString();
			if (/^exited 1 /m.test(replies)) resolveExit();
		});
		starter.once('exit', () => reject(new Error(`the starter ended first; it said: ${replies}`)));
	});
	starter.stdin.write(encodeStartRequest({id: 1, script, args: [], cwd: dir, env: {}, logFile: join(dir, 'job.log'), exitFile: join(dir, 'runs', '1.exit')}));
	await exited;
	starter.stdin.end();
	await new Promise(resolveClose => {
		starter.once('close', resolveClose);
	});
	return readFileSync(traceFile, 'utf8').split('\n');
}

describe.skipIf(straceMissing !== undefined).each(starterKinds)('the $kind job starter\'s wrapper, under strace', ({kind, skip}) => {
	it.skipIf(skip)('the starter makes the exit file before it forks the wrapper, which syncs it and runs/ before the job runs, and the status (temporary file, rename, runs/) before the end is reported', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'jobdeck-sync-'));
		dirs.push(dir);
		mkdirSync(join(dir, 'runs'));
		const job = join(dir, 'job.sh');
		spawnSync('sh', ['-c', `printf '#!/bin/sh\\nexit 3\\n' > ${job}; chmod +x ${job}`]);
		const trace = await traceOneJob(kind, dir, job);
		const runs = join(dir, 'runs');
		const first = (what: string, pattern: RegExp, after = -1) => {
			const index = trace.findIndex((line, at) => at > after && pattern.test(line));
			if (index === -1) throw new Error(`no ${what} after line ${after} in the trace:\n${trace.join('\n')}`);
			return index;
		};

		// Under load strace splits a call another process interrupts: `fsync(3<…> <unfinished ...>`, then `<... fsync resumed>`.
		const escaped = (path: string) => path.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');
		const created = first('O_EXCL creation of the exit file', new RegExp(`openat\\(.*"${escaped(runs)}/1\\.exit", [^)]*O_EXCL`));
		expect(trace[created]).toMatch(/O_NOFOLLOW/);
		const markerSynced = first('fsync of the new exit file', new RegExp(`fsync\\(\\d+<${escaped(runs)}/1\\.exit>(\\)| <unfinished)`), created);
		// strace -f writes each line's pid first (padded to five places: `7305  execve(…`); the first line is the starter's own exec. The creation is the
		// starter's, and done before the wrapper exists: every line of the wrapper's (the perl starter's fork, which
		// syncs the file itself; the node starter's `sh`, which runs `sync`) comes after it.
		const pidOf = (line: number) => trace[line]!.split(' ')[0]!;
		const starterPid = pidOf(0);
		expect(pidOf(created), trace.join('\n')).toBe(starterPid);
		const wrapperPid = kind === 'perl' ? pidOf(markerSynced) : pidOf(first('the exec of the sh wrapper', /^\d+ +execve\("\/bin\/sh"/));
		expect(wrapperPid).not.toBe(starterPid);
		expect(trace.findIndex(line => line.startsWith(`${wrapperPid} `)), trace.join('\n')).toBeGreaterThan(created);
		const runsSynced = first('fsync of runs/', new RegExp(`fsync\\(\\d+<${escaped(runs)}>(\\)| <unfinished)`), markerSynced);
		const jobRuns = first('the job\'s execve', new RegExp(`execve\\("${escaped(job)}"`), runsSynced);
		const statusWritten = first('the status written to the temporary file', new RegExp(`write\\(\\d+<${escaped(runs)}/1\\.exit\\.tmp>, "3 \\d+\\\\n"`), jobRuns);
		const statusSynced = first('fsync of the temporary file', new RegExp(`fsync\\(\\d+<${escaped(runs)}/1\\.exit\\.tmp>(\\)| <unfinished)`), statusWritten);
		const renamed = first('its rename into place', new RegExp(`rename(at2?)?\\(.*"${escaped(runs)}/1\\.exit\\.tmp".*"${escaped(runs)}/1\\.exit"`), statusSynced);
		const runsSyncedAgain = first('fsync of runs/ after the rename', new RegExp(`fsync\\(\\d+<${escaped(runs)}>(\\)| <unfinished)`), renamed);
		first('the starter\'s report of the end', /write\(1<(pipe|socket):\[\d+\]>, "exited 1 3 -\\n"/, runsSyncedAgain);
		expect(readFileSync(join(runs, '1.exit'), 'utf8')).toMatch(/^3 \d+\n$/);
	});

	it.skipIf(skip)('under start --no-sync (JOBDECK_STARTER_NO_SYNC=1) the wrapper syncs nothing, and the job does not see the variable', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'jobdeck-sync-'));
		dirs.push(dir);
		mkdirSync(join(dir, 'runs'));
		const job = join(dir, 'job.sh');
		spawnSync('sh', ['-c', `printf '#!/bin/sh\nenv > ${dir}/env.txt\nexit 3\n' > ${job}; chmod +x ${job}`]);
		const trace = await traceOneJob(kind, dir, job, {JOBDECK_STARTER_NO_SYNC: '1'});
		expect(trace.filter(line => /fsync|fdatasync/.test(line)), trace.join('\n')).toEqual([]);
		// It still ran, and its status is there, as the wrapper wrote it.
		expect(trace.findIndex(line => line.includes(`execve("${job}"`)), trace.join('\n')).toBeGreaterThan(0);
		expect(readFileSync(join(dir, 'runs', '1.exit'), 'utf8')).toMatch(/^3 \d+\n$/);
		expect(readFileSync(join(dir, 'env.txt'), 'utf8')).not.toContain('JOBDECK_STARTER_NO_SYNC');
	});
});
