import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {execa} from 'execa';
import {addJob, cliPath, createSandbox, statusOf, waitFor, waitForStatus, type Sandbox, type SchedulerProcess, type StatusView} from '../helpers/jobdeck.js';

// Worker tags and job needs, priorities, and dependencies between jobs,
// through a real headless scheduler running real job processes.

let sandbox: Sandbox;
let scheduler: SchedulerProcess;

beforeEach(async () => {
	sandbox = createSandbox('jobdeck-scheduling-');
	scheduler = await sandbox.startScheduler();
	// Appends "JOB_NAME WORKER" to started.txt, so the order jobs started in is on disk; EXIT_WITH sets the exit code.
	sandbox.script('step.sh', '#!/bin/sh\necho "$1 $WORKER" >> started.txt\nsleep "${SLEEP:-0}"\nexit "${EXIT_WITH:-0}"\n');
});

afterEach(async () => {
	await sandbox.cleanup();
});

type Queued = StatusView['queue'][number] & {waiting: string; priority?: number; needs?: string[]; after?: number[]};
type Finished = StatusView['finished'][number] & {dependencyFailed?: number};

const startedLines = (): string[] => {
	try {
		return readFileSync(join(sandbox.dir, 'started.txt'), 'utf8').trim().split('\n').filter(Boolean);
	} catch {
		return [];
	}
};

async function ok(args: string[]): Promise<string> {
	const result = await sandbox.run(args);
	expect(result.exitCode, `jobdeck ${args.join(' ')}: ${result.stderr}`).toBe(0);
	return result.stdout;
}

const lastRun = (view: StatusView, id: number): Finished | undefined => view.finished.findLast((run): run is Finished => run.id === id);

describe('tags and needs', () => {
	it('routes a job only to workers with every tag it needs, says why one waits, and starts it once a worker gets the tag', async () => {
		await ok(['add-worker', '--skip-ssh-check', '--slots', '4', 'plain']);
		await ok(['add-worker', '--skip-ssh-check', '--slots', '4', '--tag', 'gpu', 'gpuonly']);
		await ok(['add-worker', '--skip-ssh-check', '--slots', '4', '--tag', 'gpu', '--tag', 'mem256', 'big']);
		const both = await Promise.all(Array.from({length: 4}, async (_unused, index) => addJob(sandbox, ['--needs', 'mem256,gpu', './step.sh', `both${index}`])));
		const gpu = await Promise.all(Array.from({length: 4}, async (_unused, index) => addJob(sandbox, ['--needs', 'gpu', './step.sh', `gpu${index}`])));
		const tpu = await addJob(sandbox, ['--needs', 'tpu', './step.sh', 'tpu']);
		const view = await waitForStatus(sandbox, current => [...both, ...gpu].every(id => lastRun(current, id)?.outcome === 'succeeded'));
		for (const id of both) expect(lastRun(view, id)!.worker).toBe('big');
		for (const id of gpu) expect(['gpuonly', 'big']).toContain(lastRun(view, id)!.worker);
		expect(startedLines().filter(line => line.endsWith(' plain'))).toEqual([]);

		// Nobody has tpu: it stays queued, and status says so.
		const waiting = view.queue.find(job => job.id === tpu) as Queued;
		expect(waiting.waiting).toBe('needs tpu: no worker has it');
		expect((await ok(['status'])).split('\n').find(line => line.trimStart().startsWith(`${tpu} `))).toContain('needs tpu: no worker has it');

		await ok(['tag', 'plain', '+tpu']);
		const after = await waitForStatus(sandbox, current => lastRun(current, tpu)?.outcome === 'succeeded');
		expect(lastRun(after, tpu)!.worker).toBe('plain');
		expect(after.workers.find(worker => worker.name === 'plain')).toMatchObject({tags: ['tpu']});
		expect((JSON.parse(await ok(['status', '--json'])) as StatusView).workers.find(worker => worker.name === 'big')).toMatchObject({tags: ['gpu', 'mem256']});
	});

	it('takes tags away with -TAG: a job that needs it then waits for another worker, and `wait` says why', async () => {
		await ok(['add-worker', '--skip-ssh-check', '--tag', 'gpu', '--tag', 'ssd', 'w1']);
		expect(await ok(['tag', 'w1', '-gpu'])).toBe('w1: ssd\n');
		const id = await addJob(sandbox, ['--needs', 'gpu', './step.sh', 'gpu']);
		const view = await waitForStatus(sandbox, current => current.queue.some(job => job.id === id));
		expect((view.queue[0] as Queued).waiting).toBe('needs gpu: no worker has it');
		// `wait` says why the job may never end, then ends once it has.
		const waiting = execa('node', [cliPath, 'wait', String(id)], {cwd: sandbox.dir, env: {JOBDECK_DATA_DIR: sandbox.dataDir}, reject: false, stdin: 'ignore'});
		let stderr = '';
		waiting.stderr.setEncoding('utf8');
		waiting.stderr.on('data', (chunk: string) => {
			stderr += chunk;
		});
		await waitFor(() => stderr.includes('\n'), undefined, 'the note of wait');
		expect(stderr).toBe(`jobdeck: note: job ${id} waits: needs gpu: no worker has it\n`);
		await ok(['add-worker', '--skip-ssh-check', '--tag', 'gpu', 'w2']);
		expect((await waiting).exitCode).toBe(0);
		const done = await waitForStatus(sandbox, current => lastRun(current, id)?.outcome === 'succeeded');
		expect(lastRun(done, id)!.worker).toBe('w2');
	});
});

describe('priorities', () => {
	it('starts queued jobs highest priority first, first in first out among equals, and `priority` reorders them', async () => {
		await ok(['pause']);
		const low = await addJob(sandbox, ['--priority', '-5', './step.sh', 'low']);
		const first = await addJob(sandbox, ['./step.sh', 'first']);
		const second = await addJob(sandbox, ['./step.sh', 'second']);
		const high = await addJob(sandbox, ['--priority', '10', './step.sh', 'high']);
		const bumped = await addJob(sandbox, ['./step.sh', 'bumped']);
		expect(await ok(['priority', '3', String(bumped)])).toBe(`priority 3: ${bumped}\n`);
		expect(await ok(['priority', '-9', String(first)])).toBe(`priority -9: ${first}\n`);
		const queued = await statusOf(sandbox);
		expect(queued.queue.map(job => job.id)).toEqual([high, bumped, second, low, first]);
		expect((queued.queue[1] as Queued).priority).toBe(3);

		await ok(['add-worker', '--skip-ssh-check', 'w1']);
		await ok(['resume']);
		await waitForStatus(sandbox, current => current.queue.length === 0 && current.running.length === 0);
		expect(startedLines()).toEqual(['high w1', 'bumped w1', 'second w1', 'low w1', 'first w1']);
	});
});

describe('dependencies', () => {
	it('a three-step chain whose middle step fails records the last dependency-failed and never runs it; retry re-arms it', async () => {
		await ok(['add-worker', '--skip-ssh-check', '--slots', '4', 'w1']);
		await ok(['pause']);
		const prepare = await addJob(sandbox, ['./step.sh', 'prepare']);
		sandbox.script('flag.sh', '#!/bin/sh\necho "$1 $WORKER" >> started.txt\ntest -e fixed\n');
		const middle = await addJob(sandbox, ['--after', String(prepare), './flag.sh', 'middle']);
		const jsonOut = await ok(['add-job', '--after', String(middle), '--json', './step.sh', 'last']);
		const last = (JSON.parse(jsonOut) as Array<{id: number}>)[0]!.id;
		expect(last).toBe(middle + 1);

		// Each waits for the one before it, and says so.
		const waiting = await statusOf(sandbox);
		expect(waiting.queue.map(job => [job.id, (job as Queued).waiting])).toEqual([[prepare, 'paused'], [middle, `waiting for job ${prepare}`], [last, `waiting for job ${middle}`]]);
		await ok(['resume']);

		const failed = await waitForStatus(sandbox, current => lastRun(current, last) !== undefined);
		expect(lastRun(failed, prepare)!.outcome).toBe('succeeded');
		expect(lastRun(failed, middle)!.outcome).toBe('failed');
		expect(lastRun(failed, last)).toMatchObject({outcome: 'dependency-failed', dependencyFailed: middle});
		expect(failed.queue).toEqual([]);
		expect(startedLines()).toEqual(['prepare w1', 'middle w1']);
		const waited = await sandbox.run(['wait', String(last)]);
		expect(waited.exitCode).toBe(1);
		expect(waited.stderr).toContain(`job ${last}: dependency failed: job ${middle} did not succeed`);

		// The last step cannot be retried by itself while the middle one has failed; a job added after the middle
		// one now is recorded dependency-failed at once.
		const direct = await sandbox.run(['retry', String(last)]);
		expect(direct.stderr).toBe(`jobdeck: job ${last} runs after job ${middle}, which did not succeed: retry job ${middle} (that re-queues job ${last} too)\n`);
		const late = await addJob(sandbox, ['--after', String(middle), './step.sh', 'late']);
		expect(lastRun(await statusOf(sandbox), late)).toMatchObject({outcome: 'dependency-failed', dependencyFailed: middle});

		// Fixed: retrying the middle step brings the last one back (and the late one), waiting for it.
		await ok(['pause']);
		writeFileSync(join(sandbox.dir, 'fixed'), '');
		expect((await ok(['retry', String(middle)])).trim().split('\n').map(Number)).toEqual([middle, last, late]);
		const rearmed = await statusOf(sandbox);
		expect(rearmed.queue.map(job => [job.id, (job as Queued).waiting])).toEqual([[middle, 'paused'], [last, `waiting for job ${middle}`], [late, `waiting for job ${middle}`]]);
		await ok(['resume']);
		expect((await sandbox.run(['wait', String(last), String(late)])).exitCode).toBe(0);
		expect(startedLines().slice(0, 3)).toEqual(['prepare w1', 'middle w1', 'middle w1']);
		expect(startedLines().slice(3).sort()).toEqual(['last w1', 'late w1']);
	});

	it('a cancelled job takes every job downstream with it, naming itself; --after applies to every job of an --each batch', async () => {
		await ok(['add-worker', '--skip-ssh-check', '--slots', '4', 'w1']);
		const slow = await addJob(sandbox, ['-e', 'SLEEP=30', './step.sh', 'slow']);
		const batch = (await ok(['add-job', '--after', String(slow), '--each', './step.sh', 'a', 'b'])).trim().split('\n').map(Number);
		const downstream = await addJob(sandbox, ['--after', batch.join(','), './step.sh', 'c']);
		await waitForStatus(sandbox, current => current.running.some(run => run.id === slow));
		await ok(['cancel', '--grace', '1s', String(slow)]);
		const view = await waitForStatus(sandbox, current => lastRun(current, downstream) !== undefined);
		for (const id of [...batch, downstream]) expect(lastRun(view, id)).toMatchObject({outcome: 'dependency-failed', dependencyFailed: slow});
		expect(startedLines()).toEqual(['slow w1']);
	});

	it('refuses unknown ids and the job\'s own id, changing nothing', async () => {
		const stateBefore = JSON.stringify((await statusOf(sandbox)).queue);
		const unknown = await sandbox.run(['add-job', '--after', '42', './step.sh']);
		expect(unknown.exitCode).not.toBe(0);
		expect(unknown.stderr).toBe('jobdeck: --after: job 42 is not known (not queued, running or finished here)\n');
		const own = await sandbox.run(['add-job', '--after', '1', './step.sh']);
		expect(own.stderr).toBe('jobdeck: job 1 cannot run after itself\n');
		expect(JSON.stringify((await statusOf(sandbox)).queue)).toBe(stateBefore);
	});
});

describe('after a SIGKILL', () => {
	it('keeps tags, priorities and dependencies: the restarted scheduler runs the same order and the same chain', async () => {
		await ok(['pause']);
		await ok(['add-worker', '--skip-ssh-check', '--tag', 'gpu', 'g1']);
		const first = await addJob(sandbox, ['./step.sh', 'first']);
		const needsGpu = await addJob(sandbox, ['--needs', 'gpu', '--after', String(first), './step.sh', 'gpu']);
		const urgent = await addJob(sandbox, ['--priority', '7', './step.sh', 'urgent']);
		const failing = await addJob(sandbox, ['-e', 'EXIT_WITH=1', '--priority', '-1', './step.sh', 'failing']);
		const doomed = await addJob(sandbox, ['--after', String(failing), './step.sh', 'doomed']);
		await ok(['priority', '9', String(first)]);
		const before = await statusOf(sandbox);

		// No chance to write a snapshot: the journal alone must bring it all back.
		scheduler.process.kill('SIGKILL');
		await scheduler.process;
		scheduler = await sandbox.startScheduler();
		const after = await statusOf(sandbox);
		expect(after.queue).toEqual(before.queue);
		expect(after.queue.map(job => job.id)).toEqual([first, urgent, needsGpu, doomed, failing]);
		expect(after.workers[0]).toMatchObject({name: 'g1', tags: ['gpu']});
		expect((after.queue[2] as Queued).waiting).toBe(`waiting for job ${first}`);

		await ok(['resume']);
		const done = await waitForStatus(sandbox, current => lastRun(current, doomed) !== undefined);
		expect(startedLines()).toEqual(['first g1', 'urgent g1', 'gpu g1', 'failing g1']);
		expect(lastRun(done, doomed)).toMatchObject({outcome: 'dependency-failed', dependencyFailed: failing});
	});
});
