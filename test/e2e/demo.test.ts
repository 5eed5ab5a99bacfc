import {existsSync, readFileSync, rmSync} from 'node:fs';
import {dirname} from 'node:path';
import {execa} from 'execa';
import {afterEach, expect, test} from 'vitest';
import type {StatusJson} from '../../source/core/status-json.js';
import {cliPath, killJobsStartedIn} from '../helpers/jobdeck.js';
import {listProcesses} from '../helpers/sshd.js';

// `jobdeck demo` without a terminal: it prints the scheduler's events until
// every demo job has finished, then exits, leaving its throwaway data dir to
// look at. The jobs are real local scripts run by the real engine.

let demoDir: string | undefined;

afterEach(() => {
	if (!demoDir) return;
	killJobsStartedIn(demoDir);
	rmSync(demoDir, {recursive: true, force: true});
	demoDir = undefined;
});

test('jobdeck demo runs its jobs on local workers to the end, some failing on purpose', async () => {
	const started = Date.now();
	const result = await execa('node', [cliPath, 'demo', '--workers', '3', '--jobs', '12'], {reject: false, stdin: 'ignore', timeout: 60_000, env: {JOBDECK_DATA_DIR: '/nonexistent'}});
	const output = result.stdout;
	const dataDir = /^jobdeck demo: data dir (\S+), logs in (\S+)/m.exec(output)?.[1];
	expect(dataDir, output).toBeDefined();
	demoDir = dirname(dataDir!);
	expect(result.exitCode, `${output}\n${result.stderr}`).toBe(0);
	expect(result.stderr).toBe('');

	// The event lines a newcomer sees, then the summary and where to look.
	expect(output).toMatch(/^\d\d:\d\d:\d\d added worker local-1 \(1 slot\)$/m);
	expect(output).toMatch(/^\d\d:\d\d:\d\d queued 12 jobs \(1…12\)$/m);
	expect(output).toMatch(/^\d\d:\d\d:\d\d finished job \d+ on local-\d \(JOB_ID \d+\): exit 1 after \ds$/m);
	expect(output).toContain('jobdeck demo: 12 of 12 jobs finished: 10 succeeded, 2 failed (on purpose)');
	expect(output).toContain(`jobdeck demo: the demo's data dir is ${dataDir}`);

	// What the scheduler recorded (the demo has stopped; status reads the saved state).
	const status = await execa('node', [cliPath, 'status', '--json', '--data-dir', dataDir!], {reject: false});
	expect(status.exitCode).toBe(0);
	const view = JSON.parse(status.stdout) as StatusJson;
	expect(view.scheduler.running).toBe(false);
	expect(view.queue).toEqual([]);
	expect(view.running).toEqual([]);
	expect(view.workers.map(worker => worker.name)).toEqual(['local-1', 'local-2', 'local-3']);
	expect(view.finished).toHaveLength(12);
	for (const worker of view.workers) expect(worker.jobsDone + worker.jobsFailed, worker.name).toBeGreaterThan(0);

	const scripts = ['render-frame.sh', 'resize-images.sh', 'train-model.sh', 'compress-logs.sh', 'upload-results.sh', 'checksum.sh'];
	const seen = new Set<string>();
	for (const run of view.finished) {
		const script = run.script.split('/').at(-1)!;
		seen.add(script);
		expect(scripts).toContain(script);
		// A job fails exactly when it was queued with --fail-with CODE, and then with CODE.
		const failWith = run.args.indexOf('--fail-with');
		const expected = failWith === -1 ? 0 : Number(run.args[failWith + 1]);
		expect(run, readFileSync(run.logFile, 'utf8')).toMatchObject({exitCode: expected, signal: null, outcome: expected === 0 ? 'succeeded' : 'failed'});
		// Each printed progress for a while, naming its worker and JOB_ID.
		const log = readFileSync(run.logFile, 'utf8');
		expect(log.split('\n')[0]).toBe(`${script} ${run.args[0]}: running on worker ${run.worker} as JOB_ID ${run.runId}`);
		expect(log.trim().split('\n').length).toBeGreaterThanOrEqual(expected === 0 ? 4 : 2);
		// A failing job ends on its error, in red; a succeeding one ends as it likes.
		expect(log).toMatch(expected === 0 ? /$/ : /\u001B\[31merror: .+\u001B\[0m\n$/);
		expect(run.endedAt - run.startedAt).toBeGreaterThanOrEqual(1000);
	}

	expect([...seen].sort()).toEqual([...scripts].sort());
	expect(view.finished.filter(run => run.exitCode !== 0).map(run => run.exitCode)).toEqual([1, 2]);
	// Some print in colour.
	expect(view.finished.some(run => /\u001B\[3\dm/.test(readFileSync(run.logFile, 'utf8')) && run.exitCode === 0)).toBe(true);
	// Nothing of the demo is left running.
	expect(listProcesses().filter(process => process.command.includes(demoDir!))).toEqual([]);
	expect(existsSync(`${dataDir}/control.sock`)).toBe(false);
	console.log(`demo: 12 jobs on 3 local workers in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
