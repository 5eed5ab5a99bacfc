import type {FinishedRun, JobRun, Worker} from '../../core/model.js';
import type {SchedulerEvent, SchedulerFault, SchedulerSnapshot} from '../../core/scheduler.js';
import {totalsOf} from '../../core/run-totals.js';

// The UI's own copy of the scheduler's state: one snapshot at mount, then
// every event applied in order. Events that arrive before the snapshot
// resolves may already be part of it, so every change is applied so that
// applying it twice changes nothing. Of the queue, which may hold 100,000
// jobs, it keeps only the length: the queue pane asks the scheduler for the
// rows it shows (use-queue-page).

export type SchedulerModel = {
	readonly dataDir: string;
	/** The user's pause. */
	readonly paused: boolean;
	/** The scheduler's own trouble (no log can be made, the state cannot be saved), which clears by itself. */
	readonly faults: readonly SchedulerFault[];
	readonly stopping: boolean;
	/** In the order they were added. */
	readonly workers: ReadonlyMap<string, Worker>;
	readonly queueLength: number;
	/** Goes up whenever the queue, or why its jobs wait, may have changed: the rows on screen are then asked for again. */
	readonly queueVersion: number;
	readonly running: ReadonlyMap<number, JobRun>;
	/** The newest finished runs, oldest first, at most `historyKept`. */
	readonly finished: readonly FinishedRun[];
	readonly totals: {readonly done: number; readonly failed: number};
	readonly session: SessionProgress;
	/** The last problem the scheduler reported that nobody asked about. */
	readonly lastError?: {readonly message: string; readonly at: number};
	/** Set while the scheduler is out of reach: everything else is what it was when it went. */
	readonly lost?: {readonly message: string; readonly at: number; readonly unresponsive?: boolean};
};

/** What the header's progress bar counts: this UI session only. */
export type SessionProgress = {
	readonly startedAt: number;
	readonly finished: number;
	readonly firstFinishAt?: number;
};

export const historyKept = 1000;

export function modelFromSnapshot(snapshot: SchedulerSnapshot, session?: SessionProgress, previous?: SchedulerModel): SchedulerModel {
	return {
		dataDir: snapshot.dataDir,
		paused: snapshot.paused,
		faults: snapshot.faults ?? [],
		stopping: !snapshot.running,
		workers: new Map(snapshot.workers.map(worker => [worker.name, worker])),
		queueLength: snapshot.queueLength,
		queueVersion: (previous?.queueVersion ?? 0) + 1,
		running: new Map(snapshot.runningJobs.map(run => [run.runId, run])),
		finished: snapshot.finished.slice(-historyKept),
		totals: snapshot.totals,
		session: session ?? {startedAt: Date.now(), finished: 0},
	};
}

/** Events that may change why queued jobs wait (a worker with a needed tag, a job waited for ending, a pause). */
const changesWhyJobsWait = new Set<SchedulerEvent['type']>([
	'workers-added', 'worker-updated', 'worker-removed', 'worker-offline', 'worker-online', 'job-finished', 'paused', 'resumed', 'fault', 'fault-cleared',
]);

/** Applies a batch of events in one pass: a batch may hold thousands. */
export function applyEvents(model: SchedulerModel, events: readonly SchedulerEvent[]): SchedulerModel {
	let {queueLength, queueVersion} = model;
	let workers: Map<string, Worker> | undefined;
	let running: Map<number, JobRun> | undefined;
	let finished: FinishedRun[] | undefined;
	let {paused, faults, stopping, totals, session, lastError, lost} = model;
	const editWorkers = (): Map<string, Worker> => (workers ??= new Map(model.workers));
	const editRunning = (): Map<number, JobRun> => (running ??= new Map(model.running));

	for (const event of events) {
		if (changesWhyJobsWait.has(event.type)) queueVersion++;
		switch (event.type) {
			// The screen subscribes for `queue-changed`; these come only to whoever asked for every job.
			case 'jobs-queued':
			case 'jobs-removed':
			case 'jobs-updated': {
				queueVersion++;
				break;
			}

			case 'queue-changed': {
				queueLength = event.length;
				queueVersion++;
				break;
			}

			case 'job-started': {
				editRunning().set(event.run.runId, event.run);
				break;
			}

			case 'job-finished': {
				editRunning().delete(event.run.runId);
				finished ??= [...model.finished];
				if (finished.some(run => run.runId === event.run.runId)) break;
				finished.push(event.run);
				const added = totalsOf([event.run]);
				totals = {done: totals.done + added.done, failed: totals.failed + added.failed};
				session = {...session, finished: session.finished + 1, firstFinishAt: session.firstFinishAt ?? event.at};
				break;
			}

			case 'run-abandoned': {
				editRunning().delete(event.run.runId);
				break;
			}

			case 'fault': {
				faults = [...faults.filter(fault => fault.kind !== event.fault.kind), event.fault];
				break;
			}

			case 'fault-cleared': {
				faults = faults.filter(fault => fault.kind !== event.kind);
				break;
			}

			case 'cancel-requested': {
				const run = editRunning().get(event.runId);
				if (run) editRunning().set(event.runId, {...run, cancelRequestedAt: event.at, ...(event.timedOut && {timedOut: true})});
				break;
			}

			case 'workers-added': {
				for (const worker of event.workers) editWorkers().set(worker.name, worker);
				break;
			}

			case 'worker-updated': {
				editWorkers().set(event.worker.name, event.worker);
				break;
			}

			case 'worker-removed': {
				editWorkers().delete(event.name);
				break;
			}

			case 'paused': {
				paused = true;
				break;
			}

			case 'resumed': {
				paused = false;
				break;
			}

			case 'stopping': {
				stopping = true;
				break;
			}

			case 'error': {
				lastError = {message: event.message, at: event.at};
				break;
			}

			case 'connection-lost': {
				lost = {message: event.message, at: event.at, unresponsive: event.unresponsive};
				break;
			}

			// A fresh snapshot replaces everything; use-scheduler-state takes it.
			case 'connection-restored':
			case 'state-loaded': {
				break;
			}
		}
	}

	return {
		...model,
		paused,
		faults,
		stopping,
		totals,
		session,
		lastError,
		lost,
		workers: workers ?? model.workers,
		running: running ?? model.running,
		finished: finished ? finished.slice(-historyKept) : model.finished,
		queueLength,
		queueVersion,
	};
}
