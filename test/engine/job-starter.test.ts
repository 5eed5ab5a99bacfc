import {chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {childrenOf, findJobProcess, readExitFile, readProcessStat, signalJobGroup} from '../../source/engine/job-process.js';
import {JobStarter, starterKind, type StartResult, type WrapperExit} from '../../source/engine/job-starter/job-starter.js';
import {isAlive, waitFor} from '../helpers/jobdeck.js';

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
		expect(readExitFile(job.exitFile)).toMatchObject({exitCode: 0, signal: null});
	});

	it.skipIf(skip)('runs whatever perl\'s own variables say, and the job gets them as they were', async () => {
		const perlOwn = {PERL5OPT: '-MNo::Such::Module', PERL_UNICODE: 'SD', PERL5LIB: join(dir, 'nothing')};
		Object.assign(process.env, perlOwn);
		try {
			const job = await run('perl-env', '/bin/sh', ['-c', 'printf "%s\\0" "$PERL5OPT" "$PERL_UNICODE" "$PERL5LIB" "$OVERRIDDEN"'], {env: {OVERRIDDEN: 'job'}});
			expect(job.exit).toEqual({exitCode: 0, signal: undefined});
			expect(job.log().split('\0').slice(0, -1)).toEqual([...Object.values(perlOwn), 'job']);
		} finally {
			for (const name of Object.keys(perlOwn)) Reflect.deleteProperty(process.env, name);
		}
	});

	it.skipIf(skip)('runs the job in its directory with the scheduler\'s umask and PATH, stdin /dev/null, output to a new log (0600); the exit file holds the status and the end time', async () => {
		const asked = Date.now();
		const job = await run('where', 'sh', ['-c', 'pwd; umask; read line; echo "read: $?"; echo oops >&2; exit 3']);
		const told = Date.now();
		expect(job.exit).toEqual({exitCode: 3, signal: undefined});
		// eslint-disable-next-line @typescript-eslint/no-deprecated -- the test's own reading of the umask, apart from the /proc one under test
		expect(job.log()).toBe(`${dir}\n${process.umask().toString(8).padStart(4, '0')}\nread: 1\noops\n`);
		expect(statSync(job.logFile).mode & 0o777).toBe(0o600);
		expect(statSync(job.exitFile).mode & 0o777).toBe(0o600);
		expect(readFileSync(job.exitFile, 'utf8')).toMatch(/^3 \d{13}\n$/);
		const status = readExitFile(job.exitFile);
		expect(status).toMatchObject({exitCode: 3, signal: null});
		// Written by the wrapper between the request and the starter's report of its end (perl without Time::HiRes: whole seconds).
		expect(typeof status === 'object' && status.endedAt).toBeGreaterThanOrEqual(Math.floor(asked / 1000) * 1000);
		expect(typeof status === 'object' && status.endedAt).toBeLessThanOrEqual(told);
		// No temporary file left beside it.
		expect(readdirSync(dir).filter(name => name.startsWith('where'))).toEqual(['where.exit', 'where.log']);
	});

	it.skipIf(skip)('never writes through what stands where the log or exit file go: a planted link or an old file is moved aside, and the reply says so', async () => {
		const victim = join(dir, 'victim.txt');
		writeFileSync(victim, 'precious\n');
		symlinkSync(victim, join(dir, 'planted.log'));
		symlinkSync(victim, join(dir, 'planted.exit'));
		const planted = await starter.start({script: '/bin/sh', args: ['-c', 'echo secret; exit 4'], cwd: dir, env: {}, logFile: join(dir, 'planted.log'), exitFile: join(dir, 'planted.exit')});
		if (planted.type !== 'spawned') throw new Error(`not spawned: ${JSON.stringify(planted)}`);
		expect(await planted.exited).toEqual({exitCode: 4, signal: undefined});
		expect(readFileSync(victim, 'utf8')).toBe('precious\n');
		expect(planted.note).toBe(`a symbolic link to ${victim} stood at ${dir}/planted.log: moved aside to ${dir}/planted.log.in-the-way; a symbolic link to ${victim} stood at ${dir}/planted.exit: moved aside to ${dir}/planted.exit.in-the-way`);
		expect(readlinkSync(join(dir, 'planted.log.in-the-way'))).toBe(victim);
		expect(lstatSync(join(dir, 'planted.log')).isFile()).toBe(true);
		expect(readFileSync(join(dir, 'planted.log'), 'utf8')).toBe('secret\n');
		expect(readExitFile(join(dir, 'planted.exit'))).toMatchObject({exitCode: 4, signal: null});

		// An old file (someone else's, readable by all) is not appended to either; a second one in the way gets the next name.
		writeFileSync(join(dir, 'old.log'), 'before\n', {mode: 0o666});
		chmodSync(join(dir, 'old.log'), 0o666);
		writeFileSync(join(dir, 'old.log.in-the-way'), '');
		const old = await run('old', '/bin/sh', ['-c', 'echo new']);
		expect(old.started).toMatchObject({type: 'spawned', note: `a file of uid ${process.getuid!()}, mode 0666, stood at ${dir}/old.log: moved aside to ${dir}/old.log.in-the-way.1`});
		expect(old.log()).toBe('new\n');
		expect(readFileSync(join(dir, 'old.log.in-the-way.1'), 'utf8')).toBe('before\n');
		expect(statSync(old.logFile).mode & 0o777).toBe(0o600);
		expect(unexpected).toEqual([]);
	});

	it.skipIf(skip)('a script that is not there: status 127 and one line in the log; not executable: 126; no #! line: run by sh', async () => {
		const missing = await run('missing', join(dir, 'gone.sh'), []);
		expect(missing.exit).toEqual({exitCode: 127, signal: undefined});
		expect(readExitFile(missing.exitFile)).toMatchObject({exitCode: 127, signal: null});
		// The perl wrapper's words, or util-linux setsid's (the node starter's wrapper runs the job through it).
		expect(missing.log()).toMatch(new RegExp(`^(jobdeck-job: ${join(dir, 'gone.sh')}: not found|setsid: failed to execute ${join(dir, 'gone.sh')}: No such file or directory)\\n$`));

		writeFileSync(join(dir, 'plain.txt'), 'echo hi\n');
		chmodSync(join(dir, 'plain.txt'), 0o644);
		const notExecutable = await run('plain', join(dir, 'plain.txt'), []);
		expect(notExecutable.exit).toEqual({exitCode: 126, signal: undefined});
		expect(notExecutable.log()).toMatch(/^(jobdeck-job: |setsid: failed to execute ).*plain\.txt: Permission denied\n$/);

		writeFileSync(join(dir, 'no-shebang'), 'echo "no #! line: $1"\nexit 4\n');
		chmodSync(join(dir, 'no-shebang'), 0o755);
		const noShebang = await run('no-shebang', join(dir, 'no-shebang'), ['arg']);
		expect(noShebang.exit).toEqual({exitCode: 4, signal: undefined});
		expect(noShebang.log()).toBe('no #! line: arg\n');
		expect(unexpected).toEqual([]);
	});

	it.skipIf(skip)('a directory that is not there: not started, the reason in the log, and the starter goes on; a log or an exit file that cannot be made: not started, naming which and why, nothing left behind', async () => {
		const noDir = await run('no-dir', '/bin/true', [], {cwd: join(dir, 'nowhere')});
		expect(noDir.started).toEqual({type: 'not-started'});
		expect(noDir.log()).toBe(`jobdeck: could not start /bin/true in ${join(dir, 'nowhere')}\n`);
		// The same words from both starters.
		const noLog = await starter.start({script: '/bin/true', args: [], cwd: dir, env: {}, logFile: join(dir, 'nowhere', 'x.log'), exitFile: join(dir, 'x.exit')});
		expect(noLog).toEqual({type: 'not-started', fault: {file: 'log', error: `could not open the log ${join(dir, 'nowhere', 'x.log')}: no such file or directory`}});
		expect(existsSync(join(dir, 'x.exit'))).toBe(false);
		const noExitFile = await starter.start({script: '/bin/sh', args: ['-c', `: > ${join(dir, 'ran')}`], cwd: dir, env: {}, logFile: join(dir, 'y.log'), exitFile: join(dir, 'no-runs', 'y.exit')});
		expect(noExitFile).toEqual({type: 'not-started', fault: {file: 'exit-file', error: `could not create the exit file ${join(dir, 'no-runs', 'y.exit')}: no such file or directory`}});
		// Its log was made new for it, and empty: taken back. Nothing ran.
		expect(existsSync(join(dir, 'y.log'))).toBe(false);
		expect(existsSync(join(dir, 'ran'))).toBe(false);
		expect((await run('after', '/bin/sh', ['-c', 'exit 5'])).exit).toEqual({exitCode: 5, signal: undefined});
		expect(unexpected).toEqual([]);
	});

	it.skipIf(skip)('the job leads its own session and process group, apart from its wrapper, which outlives HUP/INT/TERM sent to it; signalJobGroup reaches the job and the children it left in its group, and the wrapper writes 128+N', async () => {
		writeFileSync(join(dir, 'family.sh'), '#!/bin/sh\nsleep 300 &\necho "$!" > child.pid\nsleep 300\n');
		chmodSync(join(dir, 'family.sh'), 0o755);
		const started: StartResult = await starter.start({script: join(dir, 'family.sh'), args: [], cwd: dir, env: {}, logFile: join(dir, 'family.log'), exitFile: join(dir, 'family.exit')});
		if (started.type !== 'spawned') throw new Error(`not spawned: ${JSON.stringify(started)}`);
		// The wrapper names itself once it runs, which may be just after the starter answers.
		expect(await waitFor(() => findJobProcess(join(dir, 'family.exit')), undefined, 'the wrapper by its exit file')).toBe(started.pid);
		expect(started.pidStartTime).toBe(Number(readFileSync(`/proc/${started.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]));
		const child = Number(await waitFor(() => existsSync(join(dir, 'child.pid')) && readFileSync(join(dir, 'child.pid'), 'utf8').trim(), undefined, 'the job\'s background child'));
		const [job] = childrenOf(started.pid);
		const wrapper = readProcessStat(started.pid)!;
		expect(childrenOf(started.pid)).toEqual([job]);
		expect(readProcessStat(job!)).toMatchObject({parent: started.pid, processGroup: job, session: job});
		expect(readProcessStat(child)).toMatchObject({processGroup: job, session: job});
		expect(wrapper).toMatchObject({processGroup: started.pid, session: started.pid});
		process.kill(started.pid, 'SIGHUP');
		process.kill(started.pid, 'SIGINT');
		process.kill(started.pid, 'SIGTERM');
		// The wrapper takes them (it does not pass them on): the job still runs, and only the job's own end ends it.
		await waitFor(() => /^SigPnd:\s*0+$/m.exec(readFileSync(`/proc/${started.pid}/status`, 'utf8')) && /^ShdPnd:\s*0+$/m.exec(readFileSync(`/proc/${started.pid}/status`, 'utf8')), undefined, 'the wrapper to take the signals');
		expect(isAlive(job!) && isAlive(child) && isAlive(started.pid)).toBe(true);
		expect(signalJobGroup(started.pid, 'SIGTERM')).toBe(true);
		const exit: WrapperExit = await started.exited;
		expect(exit).toEqual({exitCode: 143, signal: undefined});
		expect(readExitFile(join(dir, 'family.exit'))).toMatchObject({exitCode: null, signal: 'SIGTERM'});
		await waitFor(() => !isAlive(child), undefined, 'the background child to end');
		// As `sh` says it.
		expect(readFileSync(join(dir, 'family.log'), 'utf8')).toBe('Terminated\n');
		expect(signalJobGroup(started.pid, 'SIGTERM')).toBe(false);
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

describe('readExitFile', () => {
	let dir: string;

	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'jobdeck-exit-file-'));
	});

	afterEach(() => {
		rmSync(dir, {recursive: true, force: true});
	});

	it('reads a status and end time, an old status alone (its end: the file\'s time), a started run, and a missing one', () => {
		writeFileSync(join(dir, 'new.exit'), '137 1796000000123\n');
		expect(readExitFile(join(dir, 'new.exit'))).toEqual({exitCode: null, signal: 'SIGKILL', endedAt: 1_796_000_000_123});
		writeFileSync(join(dir, 'old.exit'), '4\n');
		utimesSync(join(dir, 'old.exit'), 1_700_000_000.5, 1_700_000_000.5);
		expect(readExitFile(join(dir, 'old.exit'))).toEqual({exitCode: 4, signal: null, endedAt: 1_700_000_000_500});
		writeFileSync(join(dir, 'started.exit'), '');
		expect(readExitFile(join(dir, 'started.exit'))).toBe('started');
		expect(readExitFile(join(dir, 'missing.exit'))).toBe('missing');
	});

	it('never reads through a link, and names whatever else it finds: garbage, something too long, a directory', () => {
		writeFileSync(join(dir, 'target'), '0\n');
		symlinkSync(join(dir, 'target'), join(dir, 'link.exit'));
		expect(readExitFile(join(dir, 'link.exit'))).toEqual({exitCode: null, signal: null, damaged: `the exit file ${dir}/link.exit is a symbolic link, not a file jobdeck wrote`});
		writeFileSync(join(dir, 'garbage.exit'), 'zero\n');
		expect(readExitFile(join(dir, 'garbage.exit'))).toEqual({exitCode: null, signal: null, damaged: `the exit file ${dir}/garbage.exit holds "zero\\n", not an exit status`});
		writeFileSync(join(dir, 'long.exit'), `0 ${'1'.repeat(100)}\n`);
		expect(readExitFile(join(dir, 'long.exit'))).toMatchObject({exitCode: null, signal: null, damaged: expect.stringMatching(/long\.exit holds "0 1{38}"…, not an exit status$/) as unknown});
		mkdirSync(join(dir, 'dir.exit'));
		expect(readExitFile(join(dir, 'dir.exit'))).toEqual({exitCode: null, signal: null, damaged: `the exit file ${dir}/dir.exit is not a regular file`});
	});
});
