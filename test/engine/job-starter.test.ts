import {chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {findJobProcess, readExitFile, signalJobGroup} from '../../source/engine/job-process.js';
import {JobStarter, starterKind, type StartResult, type WrapperExit} from '../../source/engine/job-starter/job-starter.js';
import {waitFor} from '../helpers/jobdeck.js';

// Both job starters (the perl one, and the node one it falls back to), as
// real processes, spoken to through the one encoder of their protocol: what a
// job gets (argv, environment, directory, umask, log) and how its end is
// told, exec failures included.

const perlAvailable = (() => {
	delete process.env['JOBDECK_JOB_STARTER'];
	return starterKind() === 'perl';
})();
if (!perlAvailable) {
	console.warn(`\n${'!'.repeat(100)}\nSKIPPED: perl with POSIX is not installed here, so the perl job starter's tests do not run.\nThey are reported as skipped, NOT passed. Under CI (CI=true) they fail instead.\n${'!'.repeat(100)}\n`);
	if (process.env['CI'] === 'true') {
		it('perl with POSIX is required under CI (the perl job starter is the one jobdeck uses where it can)', () => {
			expect.fail('perl with POSIX is not installed');
		});
	}
}

describe.each([
	{kind: 'perl', skip: !perlAvailable},
	{kind: 'node', skip: false},
])('the $kind job starter', ({kind, skip}) => {
	let dir: string;
	let starter: JobStarter;
	let unexpected: string[];

	beforeEach(() => {
		process.env['JOBDECK_JOB_STARTER'] = kind;
		dir = mkdtempSync(join(tmpdir(), 'jobdeck-starter-'));
		unexpected = [];
		starter = new JobStarter(reason => unexpected.push(reason));
	});

	afterEach(async () => {
		await starter.close();
		delete process.env['JOBDECK_JOB_STARTER'];
		rmSync(dir, {recursive: true, force: true});
	});

	async function run(name: string, script: string, args: string[], options: {env?: Record<string, string>; cwd?: string} = {}) {
		const paths = {logFile: join(dir, `${name}.log`), exitFile: join(dir, `${name}.exit`)};
		const started = await starter.start({script, args, cwd: options.cwd ?? dir, env: options.env ?? {}, ...paths});
		const exit = started.type === 'spawned' ? await started.exited : undefined;
		return {started, exit, ...paths, log: () => readFileSync(paths.logFile, 'utf8')};
	}

	it.skipIf(skip)('passes argv and environment values byte for byte: newlines, empty strings, unicode, spaces, \'=\' in values', async () => {
		const args = ['two\nlines', '', 'ünïcödé ✓ 日本', '  spaced  ', '-x', '--', '$HOME `id` "quoted"', 'trailing\n'];
		const env = {WITH_EQUALS: 'a=b==c', MULTI_LINE: 'one\ntwo\n', EMPTY: '', UNICODE: 'é✓'};
		const job = await run('argv', '/bin/sh', ['-c', 'printf "%s\\0" "$@" > argv.out; printf "%s\\0" "$WITH_EQUALS" "$MULTI_LINE" "$EMPTY" "$UNICODE" > env.out', 'argv0', ...args], {env});
		expect(job.exit).toEqual({exitCode: 0, signal: undefined});
		expect(readFileSync(join(dir, 'argv.out'), 'utf8').split('\0').slice(0, -1)).toEqual(args);
		expect(readFileSync(join(dir, 'env.out'), 'utf8').split('\0').slice(0, -1)).toEqual(Object.values(env));
		expect(readExitFile(job.exitFile)).toEqual({exitCode: 0, signal: null});
	});

	it.skipIf(skip)('runs whatever perl\'s own variables say, and the job gets them as they were', async () => {
		const perlOwn = {PERL5OPT: '-MNo::Such::Module', PERL_UNICODE: 'SD', PERL5LIB: join(dir, 'nothing')};
		Object.assign(process.env, perlOwn);
		try {
			const job = await run('perl-env', '/bin/sh', ['-c', 'printf "%s\\0" "$PERL5OPT" "$PERL_UNICODE" "$PERL5LIB" "$OVERRIDDEN"'], {env: {OVERRIDDEN: 'job'}});
			expect(job.exit).toEqual({exitCode: 0, signal: undefined});
			expect(job.log().split('\0').slice(0, -1)).toEqual([...Object.values(perlOwn), 'job']);
		} finally {
			for (const name of Object.keys(perlOwn)) delete process.env[name];
		}
	});

	it.skipIf(skip)('runs the job in its directory with the scheduler\'s umask and PATH, stdin /dev/null, output to the log (0600, appended)', async () => {
		writeFileSync(join(dir, 'where.log'), 'before\n');
		chmodSync(join(dir, 'where.log'), 0o600);
		const job = await run('where', 'sh', ['-c', 'pwd; umask; read line; echo "read: $?"; echo oops >&2; exit 3']);
		expect(job.exit).toEqual({exitCode: 3, signal: undefined});
		expect(job.log()).toBe(`before\n${dir}\n${process.umask().toString(8).padStart(4, '0')}\nread: 1\noops\n`);
		expect(statSync(job.exitFile).mode & 0o777).toBe(0o600);
		expect(readExitFile(job.exitFile)).toEqual({exitCode: 3, signal: null});
	});

	it.skipIf(skip)('a script that is not there: status 127 and one line in the log; not executable: 126; no #! line: run by sh', async () => {
		const missing = await run('missing', join(dir, 'gone.sh'), []);
		expect(missing.exit).toEqual({exitCode: 127, signal: undefined});
		expect(readExitFile(missing.exitFile)).toEqual({exitCode: 127, signal: null});
		expect(missing.log()).toMatch(new RegExp(`^jobdeck-job: (1: )?${join(dir, 'gone.sh')}: not found\\n$`));

		writeFileSync(join(dir, 'plain.txt'), 'echo hi\n');
		chmodSync(join(dir, 'plain.txt'), 0o644);
		const notExecutable = await run('plain', join(dir, 'plain.txt'), []);
		expect(notExecutable.exit).toEqual({exitCode: 126, signal: undefined});
		expect(notExecutable.log()).toMatch(/^jobdeck-job: (1: )?.*plain\.txt: Permission denied\n$/);

		writeFileSync(join(dir, 'no-shebang'), 'echo "no #! line: $1"\nexit 4\n');
		chmodSync(join(dir, 'no-shebang'), 0o755);
		const noShebang = await run('no-shebang', join(dir, 'no-shebang'), ['arg']);
		expect(noShebang.exit).toEqual({exitCode: 4, signal: undefined});
		expect(noShebang.log()).toBe('no #! line: arg\n');
		expect(unexpected).toEqual([]);
	});

	it.skipIf(skip)('a directory that is not there: not started, the reason in the log, and the starter goes on; a log that cannot be opened: not started, with the error', async () => {
		const noDir = await run('no-dir', '/bin/true', [], {cwd: join(dir, 'nowhere')});
		expect(noDir.started).toEqual({type: 'not-started'});
		expect(noDir.log()).toBe(`jobdeck: could not start /bin/true in ${join(dir, 'nowhere')}\n`);
		const noLog = await starter.start({script: '/bin/true', args: [], cwd: dir, env: {}, logFile: join(dir, 'nowhere', 'x.log'), exitFile: join(dir, 'x.exit')});
		expect(noLog).toMatchObject({type: 'not-started', error: expect.stringMatching(/nowhere\/x\.log/) as unknown});
		expect((await run('after', '/bin/sh', ['-c', 'exit 5'])).exit).toEqual({exitCode: 5, signal: undefined});
		expect(unexpected).toEqual([]);
	});

	it.skipIf(skip)('the wrapper leads its group, outlives HUP/INT/TERM sent to it, and writes 128+N for a job ended by signal N; findJobProcess finds it by its exit file', async () => {
		const started: StartResult = await starter.start({script: '/bin/sleep', args: ['30'], cwd: dir, env: {}, logFile: join(dir, 'sleep.log'), exitFile: join(dir, 'sleep.exit')});
		if (started.type !== 'spawned') throw new Error(`not spawned: ${JSON.stringify(started)}`);
		// The wrapper names itself once it runs, which may be just after the starter answers.
		expect(await waitFor(() => findJobProcess(join(dir, 'sleep.exit')), undefined, 'the wrapper by its exit file')).toBe(started.pid);
		expect(started.pidStartTime).toBe(Number(readFileSync(`/proc/${started.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]));
		const job = Number(await waitFor(() => readFileSync(`/proc/${started.pid}/task/${started.pid}/children`, 'utf8').trim() || undefined, undefined, 'the job'));
		process.kill(started.pid, 'SIGHUP');
		process.kill(started.pid, 'SIGINT');
		await new Promise(resolveWait => {
			setTimeout(resolveWait, 100);
		});
		expect(readFileSync(`/proc/${job}/stat`, 'utf8')).not.toMatch(/\) Z/);
		signalJobGroup(started.pid, 'SIGTERM');
		const exit: WrapperExit = await started.exited;
		expect(exit).toEqual({exitCode: 143, signal: undefined});
		expect(readExitFile(join(dir, 'sleep.exit'))).toEqual({exitCode: null, signal: 'SIGTERM'});
		// As `sh` says it.
		expect(readFileSync(join(dir, 'sleep.log'), 'utf8')).toBe('Terminated\n');
	});
});

it('JOBDECK_JOB_STARTER other than perl or node is refused in one line', () => {
	process.env['JOBDECK_JOB_STARTER'] = 'bash';
	try {
		expect(() => starterKind()).toThrow(/^JOBDECK_JOB_STARTER must be perl or node, not "bash"$/);
	} finally {
		delete process.env['JOBDECK_JOB_STARTER'];
	}
});
