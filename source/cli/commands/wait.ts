import type {FinishedRun} from '../../core/model.js';
import type {Scheduler, SchedulerEvent, SchedulerSnapshot} from '../../core/scheduler.js';
import {UserError} from '../../core/user-error.js';
import {parseJobId} from '../../core/validation.js';
import {noWorkerReasons} from '../../core/wait-reason.js';
import {withScheduler} from '../connect.js';
import {formatExit} from '../plain-text.js';
import {present} from '../../core/present.js';

// `jobdeck wait [ID…]`: blocks until the jobs are done, for scripts and CI.
// A job is done when its last run ended and it is not queued again (a retry
// or an unreachable worker sends it back). The exit status says whether each
// one succeeded.

/** What became of a job: its last run, or `removed` when it left the queue without running to the end. */
type JobEnd = FinishedRun | 'removed';

export async function wait(dataDir: string, idTexts: string[]): Promise<number> {
	const ids = idTexts.map(parseJobId);
	const waitForAll = ids.length === 0;
	const failures = await withScheduler(dataDir, async scheduler => {
		const pending = new Set<number>();
		const ends = new Map<number, JobEnd>();
		let snapshotTaken = false;
		let resyncWanted = false;
		let saveFaultNoted = false;
		const early: SchedulerEvent[] = [];
		let wake: (() => void) | undefined;

		const follow = (event: SchedulerEvent) => {
			switch (event.type) {
				case 'jobs-queued': {
					for (const job of event.jobs) pending.add(job.id);
					break;
				}

				case 'job-started': {
					pending.add(event.run.id);
					break;
				}

				case 'job-finished': {
					ends.set(event.run.id, event.run);
					if (event.run.requeued) pending.add(event.run.id);
					else pending.delete(event.run.id);
					break;
				}

				case 'jobs-removed': {
					for (const id of event.ids) {
						if (pending.delete(id)) ends.set(id, 'removed');
					}

					break;
				}

				case 'state-loaded': {
					// The state was read back from disk (a save failed, or `load-status` replaced it): what the
					// events said since the last save may not hold. Nothing is concluded: the state is read again.
					resyncWanted = true;
					break;
				}

				default:
			}
		};

		// Subscribe before taking the snapshot, so that nothing ending in between is missed;
		// events older than the snapshot replay to the same state.
		scheduler.subscribe(events => {
			if (snapshotTaken) for (const event of events) follow(event);
			else early.push(...events);
			wake?.();
		});
		const stopped = new Promise<never>((_resolve, reject) => {
			scheduler.onDisconnect(error => {
				// With an error it froze, or refused us; without, it stopped or died.
				reject(error ?? new UserError('the scheduler stopped before the jobs were done'));
			});
		});
		void stopped.catch(() => undefined);

		/** Reads the scheduler's state: what is queued or running is pending; how the others ended comes from its history. */
		const readState = async (first: boolean): Promise<SchedulerSnapshot> => {
			snapshotTaken = false;
			const before = new Set(pending);
			const snapshot = await scheduler.snapshot();
			pending.clear();
			for (const job of snapshot.queue) pending.add(job.id);
			for (const run of snapshot.runningJobs) pending.add(run.id);
			// Jobs that are neither: on the first read those asked for, later those that were pending and are no longer.
			const gone = (first ? ids : [...(waitForAll ? before : ids)]).filter(id => !pending.has(id) && (first || !ends.has(id)));
			if (gone.length > 0) await recordPastEnds(scheduler, snapshot, gone, pending, ends, first);
			const saveFault = snapshot.faults?.find(fault => fault.kind === 'save');
			if (saveFault && !saveFaultNoted) {
				saveFaultNoted = true;
				process.stderr.write(`jobdeck: note: the scheduler cannot save its state (${saveFault.message}): waiting for ends that are saved\n`);
			}

			snapshotTaken = true;
			for (const event of early.splice(0)) follow(event);
			return snapshot;
		};

		const snapshot = await readState(true);
		if (snapshot.paused) process.stderr.write('jobdeck: note: the scheduler is paused; jobs start again after `jobdeck resume`\n');
		noteStuckJobs(snapshot, waitForAll ? undefined : new Set(ids));

		const waitedFor = () => (waitForAll ? [...pending] : ids.filter(id => pending.has(id)));
		/** Whether a `state-loaded` came since the last read, and so the state must be read again before anything is concluded. */
		const takeResync = (): boolean => {
			const wanted = resyncWanted;
			resyncWanted = false;
			return wanted;
		};

		for (;;) {
			if (takeResync()) {
				await readState(false);
				continue;
			}

			if (waitedFor().length === 0) break;
			await Promise.race([stopped, new Promise<void>(resolveWake => {
				wake = resolveWake;
			})]);
		}

		const ended = waitForAll ? [...ends.entries()] : ids.map(id => [id, present(ends.get(id), `the end of job ${id}`)] as const);
		return ended.filter(([, end]) => end === 'removed' ? !waitForAll : end.outcome !== 'succeeded');
	});

	for (const [id, end] of failures) {
		process.stderr.write(end === 'removed'
			? `job ${id}: removed from the queue before it ran to the end\n`
			: `job ${id}: ${formatExit(end)}${end.outcome === 'dependency-failed' ? '' : ` on ${end.worker} (JOB_ID ${end.runId})`}\n`);
	}

	return failures.length > 0 ? 1 : 0;
}

/** Jobs that no worker can take as things stand: waiting for them could take forever, so say why. */
function noteStuckJobs(snapshot: SchedulerSnapshot, ids: Set<number> | undefined): void {
	const noWorkerFor = noWorkerReasons(snapshot.workers);
	for (const job of snapshot.queue) {
		if (ids && !ids.has(job.id)) continue;
		const reason = noWorkerFor(job.needs ?? []);
		if (reason) process.stderr.write(`jobdeck: note: job ${job.id} waits: ${reason}\n`);
	}
}

/** How the jobs that are not queued or running ended: from the snapshot's recent runs, else the scheduler's history. */
async function recordPastEnds(scheduler: Scheduler, snapshot: SchedulerSnapshot, ids: number[], pending: Set<number>, ends: Map<number, JobEnd>, first: boolean): Promise<void> {
	const lastRuns = new Map<number, FinishedRun>();
	for (const run of snapshot.finished) lastRuns.set(run.id, run);
	const missing = new Set(ids.filter(id => !pending.has(id) && !lastRuns.has(id)));
	if (missing.size > 0) {
		for (const run of await scheduler.finishedRuns({jobs: [...missing]})) lastRuns.set(run.id, run);
	}

	for (const id of ids) {
		if (pending.has(id)) continue;
		const run = lastRuns.get(id);
		if (!run && first) throw new UserError(`job ${id} is not known: it is not queued or running and has never run here`);
		// Gone from a state read back (`load-status` replaced the queue) without a run: removed.
		if (!run) {
			ends.set(id, 'removed');
			continue;
		}

		// Its last run sent it back to the queue, but it is no longer there: it was removed since.
		ends.set(id, run.requeued ? 'removed' : run);
	}
}
