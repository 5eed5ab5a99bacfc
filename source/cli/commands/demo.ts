import {chmod, mkdir, mkdtemp, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {serveScheduler} from '../../control/control-server.js';
import type {FinishedRun} from '../../core/model.js';
import type {NewJob, SchedulerEvent} from '../../core/scheduler.js';
import {Engine} from '../../engine/engine.js';
import {formatEvent} from '../plain-text.js';
import {present} from '../../core/present.js';

// `jobdeck demo`: the whole thing working, for someone with no cluster. A
// throwaway data dir, a few local "workers" (the demo's job scripts never
// leave this machine) and a few dozen jobs that print progress for a few
// seconds each; some fail on purpose, some print in colour. On a terminal the
// UI shows it; without one (CI, a pipe) the events are printed until every
// job has finished, so that the demo can be tested like everything else.

export type DemoOptions = {workers: number; jobs: number};

/** Each demo job script: a name and the shell text it runs. */
type DemoScript = {name: string; purpose: string; argument: (index: number) => string; body: string};

// Every script takes NAME [--fail-with CODE]: with --fail-with it fails, on purpose, with CODE.
const prelude = `name=$1
fail_code=
if [ "\${2:-}" = --fail-with ]; then fail_code=$3; fi
# Fails here if this job was queued to fail, the way a real job would: a message on stderr, a non-zero exit.
maybe_fail() {
	if [ -n "$fail_code" ]; then
		printf '\\033[31merror: %s\\033[0m\\n' "$1" >&2
		exit "$fail_code"
	fi
}
echo "$(basename "$0") $name: running on worker $WORKER as JOB_ID $JOB_ID"
`;

const scripts: DemoScript[] = [
	{
		name: 'render-frame.sh',
		purpose: 'renders one frame of an animation, tile by tile',
		argument: index => `frame-${String(index + 1).padStart(4, '0')}`,
		body: `for tile in 1 2 3 4 5 6 7 8; do
	sleep 0.4
	echo "rendered tile $tile/8 of $name"
	[ "$tile" = 6 ] && maybe_fail "out of memory while rendering tile 7 of $name"
done
echo "wrote $name.png"
`,
	},
	{
		name: 'resize-images.sh',
		purpose: 'resizes the photos of an album (in colour)',
		argument: index => `album-${String(index + 1).padStart(2, '0')}`,
		body: `for photo in 01 02 03 04 05 06; do
	sleep 0.35
	printf '\\033[32m✓\\033[0m %s/IMG_%s.jpg → 1024×768\\n' "$name" "$photo"
done
maybe_fail "$name/IMG_07.jpg: not a JPEG file"
printf '\\033[1mresized 6 photos\\033[0m\\n'
`,
	},
	{
		name: 'train-model.sh',
		purpose: 'trains a model for a few epochs, printing the loss (in colour)',
		argument: index => `model-${String.fromCodePoint(97 + (index % 26))}${Math.floor(index / 26) || ''}`,
		body: `loss=900
for epoch in 1 2 3 4 5; do
	sleep 0.8
	loss=$((loss * 6 / 10))
	printf 'epoch %d/5  loss \\033[33m0.%03d\\033[0m\\n' "$epoch" "$loss"
	[ "$epoch" = 3 ] && maybe_fail "loss is NaN at epoch 4 of $name"
done
printf '\\033[32msaved %s.ckpt\\033[0m\\n' "$name"
`,
	},
	{
		name: 'compress-logs.sh',
		purpose: 'compresses a day of logs',
		argument: index => `logs-2024-03-${String((index % 28) + 1).padStart(2, '0')}`,
		body: `for percent in 20 40 60 80 100; do
	sleep 0.4
	echo "compressing $name: $percent%"
	[ "$percent" = 60 ] && maybe_fail "$name: disk full"
done
echo "$name.tar.gz: 4.2 MB → 610 kB"
`,
	},
	{
		name: 'upload-results.sh',
		purpose: 'uploads a shard of results, retrying once',
		argument: index => `shard-${String(index + 1).padStart(3, '0')}`,
		body: `sleep 0.5
echo "connecting to storage for $name"
sleep 0.7
if [ -n "$fail_code" ]; then
	echo "upload of $name interrupted; retrying (attempt 2/2)"
	sleep 0.7
	maybe_fail "upload of $name failed twice: connection reset by peer"
fi
for part in 1 2 3; do
	sleep 0.4
	echo "uploaded part $part/3 of $name"
done
`,
	},
	{
		name: 'checksum.sh',
		purpose: 'verifies the checksums of a batch of files',
		argument: index => `batch-${String(index + 1).padStart(3, '0')}`,
		body: `for file in a b c d e f g; do
	sleep 0.3
	echo "$name/$file.dat: sha256 ok"
done
maybe_fail "$name/h.dat: checksum mismatch"
echo "$name: 7 files verified"
`,
	},
];

/** The exit codes the failing jobs use, in turn. */
const failureCodes = [1, 2, 3, 75];

/** Job `index` of the demo: which script, which arguments, and the exit code it will end with. */
export function demoJob(index: number): {script: string; args: string[]; exitCode: number} {
	const script = present(scripts[index % scripts.length], 'a demo script');
	const args = [script.argument(index)];
	// About one job in seven fails, with one of a few exit codes.
	if (index % 7 === 4) {
		const code = present(failureCodes[Math.floor(index / 7) % failureCodes.length], 'a demo exit code');
		args.push('--fail-with', String(code));
		return {script: script.name, args, exitCode: code};
	}

	return {script: script.name, args, exitCode: 0};
}

export async function demo(options: DemoOptions): Promise<void> {
	const dir = await mkdtemp(join(tmpdir(), 'jobdeck-demo-'));
	const jobsDir = join(dir, 'jobs');
	await mkdir(jobsDir);
	for (const script of scripts) {
		const path = join(jobsDir, script.name);
		await writeFile(path, `#!/bin/sh\n# jobdeck demo job: ${script.purpose}.\n# Usage: ${script.name} NAME [--fail-with CODE]\n${prelude}\n${script.body}`);
		await chmod(path, 0o755);
	}

	// isTTY is declared `true` but is undefined when stdout is not a terminal.
	const interactive = (process.stdout.isTTY as boolean | undefined) === true;
	const engine = await Engine.start({dataDir: join(dir, '.data'), logDir: join(dir, 'logs')});
	const server = await serveScheduler(engine, engine.dataDir);
	const say = (line: string) => process.stdout.write(`${line}\n`);
	if (!interactive) say(`jobdeck demo: data dir ${engine.dataDir}, logs in ${engine.logDir} (throwaway, under ${tmpdir()})`);

	const finished = new Map<number, FinishedRun>();
	let allFinished!: () => void;
	const done = new Promise<void>(resolve => {
		allFinished = resolve;
	});
	let jobIds = new Set<number>();
	const unsubscribe = engine.subscribe(events => {
		if (!interactive) {
			const lines = events.flatMap((event: SchedulerEvent) => formatEvent(event).map(line => `${new Date(event.at).toISOString().slice(11, 19)} ${line}`));
			if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
		}

		for (const event of events) {
			if (event.type === 'job-finished') finished.set(event.run.id, event.run);
		}

		if (jobIds.size > 0 && finished.size >= jobIds.size) allFinished();
	});
	// Whoever stops the scheduler (`jobdeck stop --data-dir …`, a signal) ends the demo too.
	void engine.stopped.then(allFinished);

	const onSignal = () => {
		allFinished();
	};

	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	process.on('SIGHUP', onSignal);
	try {
		await engine.addWorkers({
			workers: Array.from({length: options.workers}, (_unused, index) => ({name: `local-${index + 1}`, slots: 1, env: {DEMO: '1'}})),
			// The demo's scripts run right here: there is nothing to ssh to.
			skipSshCheck: true,
		});
		const newJobs: NewJob[] = Array.from({length: options.jobs}, (_unused, index) => {
			const job = demoJob(index);
			return {script: join(jobsDir, job.script), args: job.args, cwd: dir};
		});
		const queued = await engine.addJobs(newJobs);
		jobIds = new Set(queued.map(job => job.id));
		if (finished.size >= jobIds.size) allFinished();

		if (interactive) {
			const {runUi} = await import('../../ui/run-ui.js');
			await runUi({scheduler: engine, dataDir: engine.dataDir, logDir: engine.logDir});
		} else {
			await done;
		}

		await endLeftoverJobs(engine);
		unsubscribe();
		if (!interactive) {
			const runs = [...finished.values()];
			const failed = runs.filter(run => run.outcome !== 'succeeded').length;
			say(`jobdeck demo: ${runs.length} of ${jobIds.size} jobs finished: ${runs.length - failed} succeeded, ${failed} failed (on purpose)`);
		}
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		process.off('SIGHUP', onSignal);
		await engine.stop();
		await server.close();
	}

	say(`jobdeck demo: the demo's data dir is ${engine.dataDir}; look around with \`jobdeck status --data-dir ${engine.dataDir}\` or \`jobdeck logs ID --data-dir ${engine.dataDir}\`, and remove ${dir} when done`);
}

/** A demo leaves nothing running behind it: queued jobs go, running ones are cancelled and waited for. */
async function endLeftoverJobs(engine: Engine): Promise<void> {
	const snapshot = await engine.snapshot();
	if (!snapshot.running) return;
	const ids = [...snapshot.queue.map(job => job.id), ...snapshot.runningJobs.map(run => run.id)];
	if (ids.length === 0) return;
	await engine.cancelJobs(ids, 1000);
	const deadline = Date.now() + 5000;
	while ((await engine.snapshot()).runningJobs.length > 0 && Date.now() < deadline) {
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
	}
}
