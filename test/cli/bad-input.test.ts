import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {addJob, createSandbox, waitForStatus, type CommandResult, type Sandbox} from '../helpers/jobdeck.js';

// Bad input, the whole table against one running scheduler: every refusal is
// one line on stderr starting `jobdeck:`, a non-zero exit, nothing on stdout,
// and not one byte of the state changed. Then the other side: arguments that
// look dangerous but are fine reach the script exactly as typed, and no shell
// ever sees them.

/** One line, `jobdeck: …`, and nothing more. */
const oneErrorLine = /^jobdeck: [^\n]*\S[^\n]*\n$/;
/** What may not reach a terminal raw: C0 controls but newline, DEL and C1 controls (U+009B is CSI on many terminals). */
const rawControl = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/;

/** The kernel's limit for one argument, its NUL included (MAX_ARG_STRLEN): the longest one a command line can carry. */
const longestArgument = 128 * 1024 - 1;
const kib120 = 120 * 1024;

type RefusalCase = {
	/** `jobdeck ARGS…`, run in the sandbox. */
	args: string[];
	/** What the one line must say. */
	error: RegExp;
	/** Standard input, for `--from-file -`. */
	input?: string;
	/**
	 * A defect found by this table in a file this branch may not change: the
	 * case asserts the product rule and is expected to fail (it.fails) until
	 * the defect is fixed; then vitest reports it, and the marker goes.
	 * KNOWN_DEFECTS=fail runs these as ordinary tests, to see how they fail.
	 */
	defect?: string;
};

/** commander's own parse errors: `error: …` and a hint, two or three lines, never `jobdeck: …` (source/cli.ts). */
let sandbox: Sandbox;
let queued: number[] = [];
let finishedId: number;
/** What every refusal must leave as it was. */
let stateBeforeRefusals: string;
let filesBeforeRefusals: Record<string, string>;

const refusals: RefusalCase[] = [
	// The script.
	{args: ['add-job', './missing.sh'], error: /script .*\/missing\.sh does not exist/},
	{args: ['add-job', './plain.txt', 'arg'], error: /script .*\/plain\.txt is not executable/},
	{args: ['add-job', './adir'], error: /script .*\/adir is a directory/},
	{args: ['add-job', ''], error: /the script is empty/},
	{args: ['add-job', '--', ''], error: /the script is empty/},
	{
		args: ['add-job', './\u001B]0;PWNED\u0007\u001B[2J.sh'],
		error: /does not exist/,
	},
	// Worker names.
	{args: ['add-worker', '--skip-ssh-check', ''], error: /worker name is empty/},
	{args: ['add-worker', '--skip-ssh-check', 'bell\u0007name'], error: /worker name "bell\\u0007name" contains a control character/},
	{args: ['add-worker', '--skip-ssh-check', 'esc\u001B[2Jname'], error: /contains a control character/},
	{args: ['add-worker', '--skip-ssh-check', 'new\nline'], error: /worker name "new\\nline" contains a control character/},
	{args: ['add-worker', '--skip-ssh-check', 'tab\tname'], error: /contains a control character/},
	{args: ['add-worker', '--skip-ssh-check', 'del\u007Fname'], error: /contains a control character/},
	{args: ['add-worker', '--skip-ssh-check', 'csi\u009B2Jname'], error: /contains a control character/},
	{args: ['add-worker', '--skip-ssh-check', 'w1'], error: /worker "w1" already exists/},
	{args: ['add-worker', '--skip-ssh-check', 'fresh', 'fresh'], error: /worker "fresh" already exists/},
	{args: ['add-worker', '--skip-ssh-check', 'fresh', 'w2'], error: /worker "w2" already exists/},
	{args: ['add-worker', '--skip-ssh-check', '--', '-oProxyCommand=touch pwned'], error: /starts with "-"/},
	{args: ['add-worker', '--skip-ssh-check', '--', '-'], error: /starts with "-"/},
	{args: ['add-worker', '--skip-ssh-check', 'x'.repeat(256)], error: /longer than 255 characters/},
	// -e NAME=VALUE.
	{args: ['add-job', '-e', 'NOEQUALS', './ok.sh'], error: /env "NOEQUALS" has no "="/},
	{args: ['add-job', '-e', '=x', './ok.sh'], error: /env name is empty/},
	{args: ['add-job', '-e', '', './ok.sh'], error: /has no "="/},
	{args: ['add-job', '-e', 'JOB_ID=1', './ok.sh'], error: /env name JOB_ID is reserved/},
	{args: ['add-job', '-e', 'WORKER=x', './ok.sh'], error: /env name WORKER is reserved/},
	{args: ['add-job', '-e', 'SLAVE_IP=x', './ok.sh'], error: /env name SLAVE_IP is reserved/},
	{args: ['add-worker', '--skip-ssh-check', '-e', 'SLAVE_IP=x', 'fresh'], error: /env name SLAVE_IP is reserved/},
	{args: ['add-job', '-e', 'A\u0001B=1', './ok.sh'], error: /env name "A\\u0001B" is not a valid variable name/},
	{args: ['add-job', '-e', 'A\nB=1', './ok.sh'], error: /is not a valid variable name/},
	{args: ['add-job', '-e', 'TWO WORDS=1', './ok.sh'], error: /is not a valid variable name/},
	{args: ['add-job', '-e', '1ST=1', './ok.sh'], error: /is not a valid variable name/},
	// --slots.
	{args: ['add-worker', '--skip-ssh-check', '--slots', '0', 'fresh'], error: /slots must be a whole number from 1 to 10000, not "0"/},
	{args: ['add-worker', '--skip-ssh-check', '--slots', '-1', 'fresh'], error: /slots must be a whole number from 1 to 10000, not "-1"/},
	{args: ['add-worker', '--skip-ssh-check', '--slots', 'banana', 'fresh'], error: /slots must be a whole number.*"banana"/},
	{args: ['add-worker', '--skip-ssh-check', '--slots', '1.5', 'fresh'], error: /slots must be a whole number.*"1\.5"/},
	{args: ['add-worker', '--skip-ssh-check', '--slots', '10001', 'fresh'], error: /slots must be a whole number/},
	{args: ['add-worker', '--skip-ssh-check', '--slots', '', 'fresh'], error: /slots must be a whole number/},
	// Workers that do not exist; nothing of a list is done when one name is wrong.
	{args: ['remove-worker', 'nobody'], error: /there is no worker named "nobody"/},
	{args: ['remove-worker', 'w1', 'nobody'], error: /there is no worker named "nobody"/},
	{args: ['disable', 'w2', 'nobody'], error: /there is no worker named "nobody"/},
	{args: ['enable', 'nobody'], error: /there is no worker named "nobody"/},
	// Job ids.
	{args: ['remove-job', '--id', '999999'], error: /job 999999 is not queued/},
	{args: ['remove-job', '--id', 'banana'], error: /job id "banana" is not a number/},
	{args: ['remove-job', '--id', '-3'], error: /job id "-3" is not a number/},
	{args: ['remove-job', '--id', '0'], error: /job 0 is not queued/},
	{args: ['remove-job', '--id', 'QUEUED_0', '999999'], error: /job 999999 is not queued/},
	{args: ['remove-job', './ok.sh', 'never-queued'], error: /no queued job runs/},
	{args: ['remove-job'], error: /give the SCRIPT \[ARGS…\] of the jobs to remove, or --id ID…/},
	{args: ['cancel', '999999'], error: /job 999999 is neither queued nor running/},
	{args: ['cancel', 'banana'], error: /job id "banana" is not a number/},
	{args: ['cancel', '-3'], error: /job id "-3" is not a number/},
	{args: ['cancel', '0'], error: /job 0 is neither queued nor running/},
	{args: ['cancel', '1.5'], error: /job id "1\.5" is not a number/},
	{args: ['cancel', 'QUEUED_0', '999999'], error: /job 999999 is neither queued nor running/},
	{args: ['cancel', '--grace', 'banana', 'QUEUED_0'], error: /duration "banana" is not like 90s, 20m or 2h/},
	{args: ['cancel', '--grace', '-1s', 'QUEUED_0'], error: /duration "-1s" is not like/},
	{args: ['retry', '999999'], error: /job 999999 has never run here/},
	{args: ['retry', 'banana'], error: /job id "banana" is not a number/},
	{args: ['retry', '-3'], error: /job id "-3" is not a number/},
	{args: ['retry', '0'], error: /job 0 has never run here/},
	{args: ['retry', 'QUEUED_0'], error: /job \d+ is already queued/},
	{args: ['retry', 'FINISHED', '999999'], error: /job 999999 has never run here/},
	{args: ['logs', '999999'], error: /there is no job 999999/},
	{args: ['logs', 'banana'], error: /job id "banana" is not a number/},
	{args: ['logs', '-3'], error: /job id "-3" is not a number/},
	{args: ['logs', 'QUEUED_0'], error: /job \d+ is queued and has no output yet/},
	{args: ['status', '--finished', 'banana'], error: /--finished takes a number or "all"/},
	// Saved states.
	{args: ['load-status', 'missing.json'], error: /cannot read missing\.json: ENOENT/},
	{args: ['load-status', 'adir'], error: /cannot read adir: EISDIR/},
	{args: ['load-status', 'not-json.txt'], error: /not-json\.txt: it is not JSON/},
	{args: ['load-status', 'empty.txt'], error: /empty\.txt: it is empty\n$/},
	{args: ['load-status', 'not-a-status.json'], error: /the status has neither "workers" and "queue" \(jobdeck\) nor "job_waitlist" and "slaves"/},
	{args: ['load-status', 'array.json'], error: /the status is not a JSON object/},
	{args: ['load-status', 'null.json'], error: /null\.json: it holds null, not a status/},
	{args: ['load-status', 'workers-not-a-list.json'], error: /workers must be a list/},
	{args: ['load-status', 'bad-worker-status.json'], error: /worker name "bad\\nworker" contains a control character/},
	{args: ['load-status', 'twice-status.json'], error: /worker "twin" appears twice in the status/},
	{args: ['load-status', 'missing-script-status.json'], error: /script .*\/gone\.sh does not exist/},
	// Bulk submission.
	{args: ['add-job', '--each', './ok.sh'], error: /--each needs at least one argument after SCRIPT/},
	{args: ['add-job', '--from-file', 'missing.txt', './ok.sh'], error: /cannot read missing\.txt: ENOENT/},
	{args: ['add-job', '--from-file', 'empty.txt', './ok.sh'], error: /empty\.txt has no job lines/},
	{args: ['add-job', '--from-file', '-', './ok.sh'], input: 'fine\n"never closed\n', error: /line 2: the arguments have an unclosed " quote/},
	{args: ['add-job', '--from-file', 'list.txt', './missing.sh'], error: /missing\.sh does not exist/},
	// Sizes. One argument of 1 MB cannot even reach jobdeck on its command line: the kernel refuses to
	// exec a program with an argument of 128 KiB or more (E2BIG). --from-file is the way in for it.
	{args: ['add-job', '--from-file', 'one-megabyte-word.txt', './ok.sh'], error: /an argument is longer than 128 KiB/},
	{args: ['add-job', './ok.sh', ...Array.from({length: 9}, () => 'a'.repeat(kib120))], error: /the arguments add up to \d+ bytes, more than the 1 MiB a job may have/},
	// The command line itself.
	{args: ['frobnicate'], error: /unknown command/},
	{args: ['add-job', '--frobnicate', './ok.sh'], error: /unknown option '--frobnicate'/},
	{args: ['add-worker', '--skip-ssh-check', '-x'], error: /unknown option '-x'/},
	{args: ['add-job'], error: /missing required argument 'script'/},
	{args: ['add-job', '--each', '--from-file', 'list.txt', './ok.sh', 'a'], error: /cannot be used with/},
	{args: ['remove-worker', '--wait', '--kill', 'w1'], error: /cannot be used with/},
	{args: ['logs', 'FINISHED', 'FINISHED'], error: /too many arguments/},
	// Retries, timeouts and wait.
	{args: ['add-job', '--retries', '-1', './ok.sh'], error: /retries must be a whole number from 0 to 1000, not "-1"/},
	{args: ['add-job', '--retries', 'banana', './ok.sh'], error: /retries must be a whole number from 0 to 1000, not "banana"/},
	{args: ['add-job', '--timeout', 'banana', './ok.sh'], error: /duration "banana" is not like 90s, 20m or 2h/},
	{args: ['add-job', '--timeout', '0', './ok.sh'], error: /--timeout must be a duration longer than 0/},
	{args: ['add-job', '--retry-delay', '-5s', './ok.sh'], error: /duration "-5s" is not like 90s, 20m or 2h/},
	{args: ['wait', '999999'], error: /job 999999 is not known/},
	// Tags, needs, priorities and dependencies.
	{args: ['add-job', '--priority', 'banana', './ok.sh'], error: /priority must be a whole number from -1000000 to 1000000, not "banana"/},
	{args: ['add-job', '--priority', '1.5', './ok.sh'], error: /priority must be a whole number.*"1\.5"/},
	{args: ['add-job', '--priority', '1000001', './ok.sh'], error: /priority must be a whole number/},
	{args: ['add-job', '--needs', '', './ok.sh'], error: /a tag is empty/},
	{args: ['add-job', '--needs', 'gpu,,mem256', './ok.sh'], error: /a tag is empty/},
	{args: ['add-job', '--needs', 'gpu,', './ok.sh'], error: /a tag is empty/},
	{args: ['add-job', '--needs', 'g\u0007pu', './ok.sh'], error: /tag "g\\u0007pu" contains a control character/},
	{args: ['add-job', '--needs', 'esc\u001B[2J', './ok.sh'], error: /contains a control character/},
	{args: ['add-job', '--needs', 'two words', './ok.sh'], error: /tag "two words" contains a space or a comma/},
	{args: ['add-job', '--after', '999999', './ok.sh'], error: /--after: job 999999 is not known/},
	{args: ['add-job', '--after', 'NEXT_ID', './ok.sh'], error: /job \d+ cannot run after itself/},
	{args: ['add-job', '--after', 'QUEUED_0,NEXT_ID', '--each', './ok.sh', 'a', 'b'], error: /job \d+ cannot run after itself/},
	{args: ['add-job', '--after', 'banana', './ok.sh'], error: /job id "banana" is not a number/},
	{args: ['add-job', '--after', '', './ok.sh'], error: /job id "" is not a number/},
	{args: ['add-worker', '--skip-ssh-check', '--tag', '', 'fresh'], error: /a tag is empty/},
	{args: ['add-worker', '--skip-ssh-check', '--tag', 'bell\u0007', 'fresh'], error: /contains a control character/},
	{args: ['tag', 'nobody', '+gpu'], error: /there is no worker named "nobody"/},
	{args: ['tag', 'w1', 'nobody', '+gpu'], error: /there is no worker named "nobody"/},
	{args: ['tag', 'w1'], error: /no tag given: write \+TAG to add one, -TAG to remove one/},
	{args: ['tag', '+gpu'], error: /no worker name given/},
	{args: ['tag', 'w1', '+'], error: /a tag is empty/},
	{args: ['tag', 'w1', '-'], error: /a tag is empty/},
	{args: ['tag', 'w1', '+g\u001B[2Jpu'], error: /contains a control character/},
	{args: ['tag', 'w1', '+gpu', '-gpu'], error: /tag "gpu" is both added and removed/},
	{args: ['priority', 'banana', 'QUEUED_0'], error: /priority must be a whole number.*"banana"/},
	{args: ['priority', '5', '999999'], error: /job 999999 is not queued/},
	{args: ['priority', '5', 'QUEUED_0', 'FINISHED'], error: /job \d+ is not queued/},
	{args: ['priority', '5', 'banana'], error: /job id "banana" is not a number/},
	{args: ['priority', '5'], error: /missing required argument 'ids'/},
];

/** Stands for the ids of the jobs queued in beforeAll, the one that finished, and the next one (also inside a comma list). */
function resolveIds(args: string[]): string[] {
	const names: Record<string, () => string> = {
		QUEUED_0: () => String(queued[0]),
		FINISHED: () => String(finishedId),
		// The id the next job would get.
		NEXT_ID: () => String(Math.max(...queued, finishedId) + 1),
	};
	return args.map(arg => arg.split(',').map(part => names[part]?.() ?? part).join(','));
}

function describeCase(args: string[]): string {
	return args.map(arg => (arg.length > 40 ? `<${arg.length} bytes>` : JSON.stringify(arg))).join(' ');
}

/** The state as `status --json` tells it, without what may change by itself, with every finished run. */
async function stateNow(): Promise<string> {
	const result = await sandbox.run(['status', '--json', '--finished', 'all']);
	expect(result.exitCode, result.stderr).toBe(0);
	return JSON.stringify(withoutTimes(JSON.parse(result.stdout)), null, 1);
}

function withoutTimes(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(item => withoutTimes(item));
	if (typeof value !== 'object' || value === null) return value;
	return Object.fromEntries(Object.entries(value).filter(([key]) => !key.endsWith('At')).map(([key, item]) => [key, withoutTimes(item)]));
}

/** The saved state, byte for byte: a refused command writes nothing. */
function savedFiles(): Record<string, string> {
	const files: Record<string, string> = {};
	for (const name of ['journal.jsonl', 'history.jsonl', 'state.json']) files[name] = readFileSync(join(sandbox.dataDir, name), 'latin1');
	return files;
}

function expectRefusal(result: CommandResult, error: RegExp): void {
	expect(result.exitCode, `exit code; stderr: ${result.stderr}`).not.toBe(0);
	expect(result.stderr).toMatch(oneErrorLine);
	expect(result.stderr).toMatch(error);
	expect(result.stdout).toBe('');
}

describe('bad input: one line, a non-zero exit, no change', () => {
	beforeAll(async () => {
		sandbox = createSandbox('jobdeck-bad-input-');
		await sandbox.startScheduler();
		sandbox.script('ok.sh', '#!/bin/sh\necho "ok $*"\n');
		sandbox.script('plain.txt', 'not a program\n');
		chmodSync(join(sandbox.dir, 'plain.txt'), 0o644);
		mkdirSync(join(sandbox.dir, 'adir'));
		const file = (name: string, text: string) => writeFileSync(join(sandbox.dir, name), text);
		file('not-json.txt', 'workers: [w1]\n');
		file('empty.txt', '');
		file('not-a-status.json', '{"hello": "world"}\n');
		file('array.json', '[1, 2, 3]\n');
		file('null.json', 'null\n');
		const status = (workers: unknown[], queue: unknown[]) => JSON.stringify({workers, queue});
		file('bad-worker-status.json', status([{name: 'fine', slots: 1}, {name: 'bad\nworker', slots: 1}], []));
		file('workers-not-a-list.json', JSON.stringify({workers: 'w9', queue: []}));
		file('twice-status.json', status([{name: 'twin'}, {name: 'twin'}], []));
		file('missing-script-status.json', status([{name: 'fine'}], [{script: './ok.sh', args: []}, {script: './gone.sh', args: ['x']}]));
		file('list.txt', 'one\ntwo\n');
		file('one-megabyte-word.txt', `${'m'.repeat(1024 * 1024)}\n`);

		// Something of everything: workers with slots and env, a finished run, a paused queue.
		for (const args of [['w1'], ['--slots', '2', '-e', 'PORT=2222', 'w2'], ['drained']]) {
			const added = await sandbox.run(['add-worker', '--skip-ssh-check', ...args]);
			expect(added.exitCode, added.stderr).toBe(0);
		}

		expect((await sandbox.run(['disable', 'drained'])).exitCode).toBe(0);
		finishedId = await addJob(sandbox, ['./ok.sh', 'done']);
		await waitForStatus(sandbox, view => view.finished.some(run => run.id === finishedId));
		expect((await sandbox.run(['pause'])).exitCode).toBe(0);
		queued = [await addJob(sandbox, ['./ok.sh', 'first']), await addJob(sandbox, ['-e', 'MODE=x', './ok.sh', 'second', 'two words'])];
		const view = await waitForStatus(sandbox, current => current.queue.length === 2);
		expect(view.scheduler.paused).toBe(true);
		expect(view.running).toEqual([]);
		stateBeforeRefusals = await stateNow();
		filesBeforeRefusals = savedFiles();
	});

	afterAll(async () => {
		// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
		await sandbox?.cleanup();
	});

	it('has a table of at least 40 refusals', () => {
		expect(refusals.length).toBeGreaterThanOrEqual(40);
	});

	// The refusals run a few at a time (each is a command line, mostly waiting for node to start): none may
	// change anything, so each compares the saved files after it with those before them all, byte for byte
	// (every change is journalled before it is acknowledged). Should one change them, those running beside it
	// fail too. The last test below compares what `status --json` says too, once: a status a refusal is a
	// second node process each, which doubled this file's time.
	describe.concurrent('each refusal', () => {
		for (const {args, error, input, defect} of refusals) {
			const test = defect && process.env.KNOWN_DEFECTS !== 'fail' ? it.fails : it;
			test(`refuses ${describeCase(args)}${defect ? ` (known defect: ${defect})` : ''}`, async () => {
				const result = await sandbox.run(resolveIds(args), {input});
				expectRefusal(result, error);
				expect(savedFiles()).toEqual(filesBeforeRefusals);
				expect(existsSync(join(sandbox.dir, 'pwned'))).toBe(false);
				// Last, so that a known defect of this kind fails only here.
				expect(result.stderr.slice(0, -1)).not.toMatch(rawControl);
			});
		}
	});

	it('after all of them, the state is the one before them, byte for byte', async () => {
		expect(await stateNow()).toBe(stateBeforeRefusals);
		expect(savedFiles()).toEqual(filesBeforeRefusals);
	});
});

/** Writes its argv, NUL after each argument, to argv.$JOB_ID. */
const recordScript = '#!/bin/sh\nprintf \'%s\\0\' "$@" > "argv.$JOB_ID"\n';

type AcceptedCase = {name: string; args: string[]; defect?: string};

const accepted: AcceptedCase[] = [
	{name: 'quotes', args: ['it\'s', '"double"', '\'single\'', '"unclosed', 'back\\slash', '\\"']},
	{name: 'command substitution', args: ['$(touch pwned)', '"$(touch pwned)"', '${IFS}touch${IFS}pwned']},
	{name: 'backticks', args: ['`touch pwned`', 'a`touch pwned`b']},
	{name: 'separators', args: [';', 'a; touch pwned', '&&', '&& touch pwned', '||', '| touch pwned', '&', '> pwned', '< /etc/passwd', '2>&1']},
	{name: 'globs and expansions', args: ['*', '?', '[a-z]*', '~', '~root', '$HOME', '${PATH}', '$0', '$1', '$@', '!!', '{a,b}']},
	{name: 'newlines and other whitespace', args: ['new\nline', '\n', 'carriage\rreturn', 'tab\there', ' ', '  two  spaces  ', 'trailing newline\n']},
	{name: 'control characters and escape sequences', args: ['\u001B]0;PWNED\u0007', '\u001B[2J', 'bell\u0007', '\u009B2J', '\u007F']},
	{name: 'unicode', args: ['ünïcødé', '✓ 日本語 🎉', 'e\u0301', '\u202Eevil', '\uFEFFbom', 'zero\u200Bwidth']},
	{name: 'a leading -', args: ['-', '-e', 'X=1', '-x', '-rf', '--help', '--version', '-3']},
	{name: 'jobdeck\'s own flags, after SCRIPT', args: ['--each', '--from-file', '/etc/passwd', '--data-dir', '/nonexistent', '-e', 'JOB_ID=1', '--retries', '5', '--', '--slots', '0']},
	{name: '--', args: ['--']},
	{name: '-- among others', args: ['a', '--', 'b', '--', '']},
	{name: 'an empty string', args: ['']},
	{name: 'empty strings', args: ['', '', 'between', '']},
	{name: 'no argument at all', args: []},
	{name: 'the longest argument a command line can carry (128 KiB less its NUL)', args: [`start-${'x'.repeat(longestArgument - 10)}-end`]},
	{name: 'seven of those, 0.9 MB in all', args: Array.from({length: 7}, (_unused, index) => `${index}`.repeat(longestArgument))},
];

describe('tricky arguments reach the script byte for byte', () => {
	let accepting: Sandbox;

	beforeAll(async () => {
		accepting = createSandbox('jobdeck-accepted-');
		await accepting.startScheduler();
		accepting.script('record.sh', recordScript);
		expect((await accepting.run(['add-worker', '--skip-ssh-check', '--slots', '4', 'w1'])).exitCode).toBe(0);
	});

	afterAll(async () => {
		// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the setup failed before it
		await accepting?.cleanup();
	});

	/** Runs the job to its end and returns what the script got, as bytes. */
	async function argvOfJob(id: number): Promise<Buffer> {
		const status = await waitForStatus(accepting, view => view.finished.some(run => run.id === id));
		const run = status.finished.find(candidate => candidate.id === id)!;
		expect(run.exitCode).toBe(0);
		return readFileSync(join(accepting.dir, `argv.${run.runId}`));
	}

	const expectedBytes = (args: readonly string[]) => Buffer.concat(args.map(arg => Buffer.concat([Buffer.from(arg, 'utf8'), Buffer.from([0])])));
	// `printf '%s\0'` with no argument still prints one (empty) argument's worth.
	const expectedFor = (args: readonly string[]) => (args.length === 0 ? Buffer.from([0]) : expectedBytes(args));

	for (const {name, args, defect} of accepted) {
		const test = defect && process.env.KNOWN_DEFECTS !== 'fail' ? it.fails : it;
		test(`passes ${name} untouched`, async () => {
			const id = await addJob(accepting, ['./record.sh', ...args]);
			const got = await argvOfJob(id);
			expect(got.equals(expectedFor(args)), `got ${JSON.stringify(got.toString('utf8').slice(0, 200))}`).toBe(true);
			const {queue} = JSON.parse((await accepting.run(['status', '--json'])).stdout) as {queue: unknown[]};
			expect(queue).toEqual([]);
			expect(readdirSync(accepting.dir).filter(file => file.includes('pwned'))).toEqual([]);
		});
	}

	it('passes --each and --from-file arguments untouched too, one job each', async () => {
		const each = ['$(touch pwned)', '', '-e', 'new\nline', '--'];
		const result = await accepting.run(['add-job', '--each', './record.sh', ...each]);
		expect(result.exitCode, result.stderr).toBe(0);
		const ids = result.stdout.trim().split('\n').map(Number);
		expect(ids).toHaveLength(each.length);
		for (const [index, id] of ids.entries()) expect((await argvOfJob(id)).equals(expectedBytes([each[index]!]))).toBe(true);

		writeFileSync(join(accepting.dir, 'lines.txt'), '\'$(touch pwned)\' "a;b" `x` \\$HOME\n"" \'\' -e\n');
		const fromFile = await accepting.run(['add-job', '--from-file', 'lines.txt', './record.sh', 'fixed']);
		expect(fromFile.exitCode, fromFile.stderr).toBe(0);
		const [first, second] = fromFile.stdout.trim().split('\n').map(Number);
		expect((await argvOfJob(first!)).equals(expectedBytes(['fixed', '$(touch pwned)', 'a;b', '`x`', '$HOME']))).toBe(true);
		expect((await argvOfJob(second!)).equals(expectedBytes(['fixed', '', '', '-e']))).toBe(true);
		expect(readdirSync(accepting.dir).filter(file => file.includes('pwned'))).toEqual([]);
	});
});
