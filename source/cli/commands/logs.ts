import {watch, type FSWatcher} from 'node:fs';
import {open} from 'node:fs/promises';
import type {SchedulerClient} from '../../control/control-client.js';
import type {FinishedRun, JobRun} from '../../core/model.js';
import {UserError} from '../../core/user-error.js';
import {parseJobId} from '../../core/validation.js';
import {withSchedulerOrSavedState} from '../connect.js';
import type {SchedulerQueries} from '../saved-state.js';
import {stdoutCopier, type StdoutCopier} from '../stdout-copier.js';

/** How often -f looks at the log when no change has been reported: a change notice can be missed (a network file system). */
const followPollMs = 100;

export async function logs(dataDir: string, idText: string, follow: boolean): Promise<void> {
	const id = parseJobId(idText);
	await withSchedulerOrSavedState(dataDir, async (scheduler, live) => {
		const run = await findLatestRun(scheduler, id);
		if ('outcome' in run && run.outcome === 'dependency-failed') throw new UserError(`job ${id} never ran (job ${run.dependencyFailed} it runs after did not succeed), so it has no output`);
		const copier = stdoutCopier();
		if (!follow || !live || !('pid' in run) || 'endedAt' in run) {
			await printFile(run.logFile, copier);
			return;
		}

		await followRun(live, run, copier);
	});
}

async function findLatestRun(scheduler: SchedulerQueries, id: number): Promise<JobRun | FinishedRun> {
	const snapshot = await scheduler.snapshot();
	const running = snapshot.runningJobs.find(candidate => candidate.id === id);
	if (running) return running;
	if (snapshot.queue.some(job => job.id === id)) throw new UserError(`job ${id} is queued and has no output yet`);
	const [last] = await scheduler.finishedRuns({jobs: [id]});
	if (last) return last;
	throw new UserError(`there is no job ${id} (never added here, or its runs were removed by clean or the retention policy)`);
}

async function printFile(path: string, copier: StdoutCopier): Promise<void> {
	let handle;
	try {
		handle = await open(path, 'r');
	} catch (error) {
		throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? new UserError(`log file ${path} does not exist (yet)`) : error;
	}

	try {
		await copier.copy(handle, 0);
	} finally {
		await handle.close();
	}
}

/** Prints the log as it grows, until the job's run finishes, then what it wrote last. */
async function followRun(scheduler: SchedulerClient, run: JobRun, copier: StdoutCopier): Promise<void> {
	let finished = false;
	let disconnected = false;
	/** Why the connection ended, when it was no stop of the scheduler: it stopped answering, say. */
	let lostBecause: Error | undefined;
	scheduler.subscribe(events => {
		if (events.some(event => event.type === 'job-finished' && event.run.runId === run.runId)) finished = true;
	});
	scheduler.onDisconnect(error => {
		disconnected = true;
		lostBecause = error;
	});
	// The run may have ended between the snapshot and the subscription.
	const current = await scheduler.snapshot();
	if (!current.runningJobs.some(candidate => candidate.runId === run.runId)) finished = true;

	const handle = await open(run.logFile, 'r');
	// Each write the kernel reports ends the wait at once: polling alone showed a line 50 ms late on average.
	let wake: (() => void) | undefined;
	// A change reported while a copy was under way: that copy may have stopped short of it.
	let changedMeanwhile = false;
	let watcher: FSWatcher | undefined;
	try {
		watcher = watch(run.logFile, {persistent: false}, () => {
			if (wake) wake();
			else changedMeanwhile = true;
		});
	} catch {
		// No watch (too many watchers, a file system without notices): the poll below still sees every change.
	}

	try {
		let offset = 0;
		for (;;) {
			const ended = finished || disconnected;
			changedMeanwhile = false;
			offset = await copier.copy(handle, offset);
			if (copier.readerGone) return;
			// What the log holds is printed first; then the reason it is not followed any more.
			if (lostBecause) throw lostBecause;
			if (ended) return;
			if (changedMeanwhile) continue; // eslint-disable-line @typescript-eslint/no-unnecessary-condition -- set by the watcher while the copy awaited
			await new Promise<void>(resolveWait => {
				const timer = setTimeout(resolveWait, followPollMs);
				wake = () => {
					clearTimeout(timer);
					resolveWait();
				};
			});
			wake = undefined;
		}
	} finally {
		watcher?.close();
		await handle.close();
	}
}
