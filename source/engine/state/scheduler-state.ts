import type {FinishedRun, JobRun, QueuedJob, Worker, WorkerOffline} from '../../core/model.js';
import {queuedJobOf, takesJobs} from '../../core/model.js';
import type {RetentionPolicy} from '../../core/retention.js';
import {Dependencies} from './dependencies.js';
import {FreeWorkers} from './free-workers.js';
import {JobQueue} from './job-queue.js';

// The scheduler's whole state, and the only way to change it: a StateChange
// applied by `applyChange`. The engine applies each change live and the store
// appends it to the journal; after a restart the store replays the journal
// through the same function, so what was acknowledged is rebuilt exactly.

export type SchedulerState = {
	nextJobId: number;
	nextRunId: number;
	paused: boolean;
	/** Which finished runs the scheduler lets go of by itself (`start --keep-finished`, `--keep-for`); empty: none. */
	retention: RetentionPolicy;
	/** In the order they were added. */
	workers: Map<string, Worker>;
	queue: JobQueue;
	/** By runId. */
	running: Map<number, JobRun>;
	/** Jobs running on each worker, derived from `running`. */
	busySlots: Map<string, number>;
	/** Workers that may take a job now, derived from `workers` and `busySlots`. */
	freeWorkers: FreeWorkers;
	/** Ids of the jobs running now, derived from `running`. */
	runningJobIds: Set<number>;
	/** Which queued jobs wait for which others, derived from the queue and `runningJobIds`. */
	dependencies: Dependencies;
};

/** Jobs recorded as never to run, as a job they waited for failed for good or left the queue. */
type DependencyFailures = {dependencyFailed?: FinishedRun[]};

export type StateChange =
	| {type: 'workers-added'; workers: Worker[]}
	| {type: 'worker-removed'; name: string}
	| {type: 'worker-flags'; name: string; removeWhenIdle?: boolean; drained?: boolean}
	/** `offline: null` brings the worker back. */
	| {type: 'worker-health'; name: string; unreachableStreak: number; offline: WorkerOffline | null; failedRechecks: number}
	| {type: 'worker-tags'; name: string; tags: string[]}
	/** `dependencyFailed`: jobs added after a job that had already failed for good. */
	| ({type: 'jobs-queued'; jobs: QueuedJob[]} & DependencyFailures)
	| ({type: 'jobs-removed'; ids: number[]} & DependencyFailures)
	| {type: 'jobs-priority'; ids: number[]; priority: number}
	| {type: 'run-started'; run: JobRun}
	| {type: 'run-spawned'; runId: number; pid: number; pidStartTime: number | undefined}
	| {type: 'run-cancel-requested'; runId: number; at: number; killAt: number; timedOut?: boolean}
	/** A run the scheduler never managed to spawn goes back to the head of the queue. */
	| {type: 'run-abandoned'; runId: number}
	/** With `requeue`, the same job goes back to the front of the queue in the same step, so a crash cannot lose it. */
	| ({type: 'run-finished'; run: FinishedRun; requeue?: QueuedJob} & DependencyFailures)
	| {type: 'paused'; paused: boolean}
	| {type: 'retention-set'; retention: RetentionPolicy}
	| {type: 'state-replaced'; workers: Worker[]; queue: QueuedJob[]; nextJobId: number};

/** What the state file holds: the state as plain JSON. */
export type StateDocument = {
	format: 'jobdeck-state';
	version: 1;
	/** The last journal entry already folded into this document. */
	journalSeq: number;
	nextJobId: number;
	nextRunId: number;
	paused: boolean;
	/** Absent in state files written before retention existed: no policy. */
	retention?: RetentionPolicy;
	workers: Worker[];
	queue: QueuedJob[];
	running: JobRun[];
};

export function emptyState(): SchedulerState {
	return {
		nextJobId: 1,
		nextRunId: 1,
		paused: false,
		retention: {},
		workers: new Map(),
		queue: new JobQueue(),
		running: new Map(),
		busySlots: new Map(),
		freeWorkers: new FreeWorkers(),
		runningJobIds: new Set(),
		dependencies: new Dependencies(),
	};
}

/** The finished runs a change records: they go to the history file once the change is saved. */
export function finishedRunsOf(change: StateChange): FinishedRun[] {
	const runs = change.type === 'run-finished' ? [change.run] : [];
	if ('dependencyFailed' in change && change.dependencyFailed) runs.push(...change.dependencyFailed);
	return runs;
}

const noDependencies: readonly number[] = Object.freeze([]);

/** The jobs `job` runs after that are not done yet. */
export function pendingDependencies(state: SchedulerState, job: QueuedJob): readonly number[] {
	// Most jobs wait for nothing: no array each for them, with 100,000 queued.
	return job.after ? job.after.filter(id => state.queue.has(id) || state.runningJobIds.has(id)) : noDependencies;
}

export function applyChange(state: SchedulerState, change: StateChange): void {
	switch (change.type) {
		case 'workers-added': {
			for (const worker of change.workers) {
				state.workers.set(worker.name, worker);
				refreshFreeWorker(state, worker.name);
			}

			break;
		}

		case 'worker-removed': {
			state.workers.delete(change.name);
			refreshFreeWorker(state, change.name);
			break;
		}

		case 'worker-flags': {
			const worker = state.workers.get(change.name);
			if (!worker) break;
			if (change.removeWhenIdle !== undefined) worker.removeWhenIdle = change.removeWhenIdle;
			if (change.drained !== undefined) worker.drained = change.drained;
			refreshFreeWorker(state, change.name);
			break;
		}

		case 'worker-health': {
			const worker = state.workers.get(change.name);
			if (!worker) break;
			worker.unreachableStreak = change.unreachableStreak;
			worker.failedRechecks = change.failedRechecks;
			if (change.offline) worker.offline = change.offline;
			else delete worker.offline;
			refreshFreeWorker(state, change.name);
			break;
		}

		case 'worker-tags': {
			const worker = state.workers.get(change.name);
			if (!worker) break;
			if (change.tags.length > 0) worker.tags = change.tags;
			else delete worker.tags;
			refreshFreeWorker(state, change.name);
			break;
		}

		case 'jobs-queued': {
			for (const job of change.jobs) {
				queueJob(state, job);
				state.nextJobId = Math.max(state.nextJobId, job.id + 1);
			}

			recordDependencyFailures(state, change.dependencyFailed);
			break;
		}

		case 'jobs-removed': {
			for (const id of change.ids) removeQueued(state, id);
			recordDependencyFailures(state, change.dependencyFailed);
			break;
		}

		case 'jobs-priority': {
			for (const id of change.ids) state.queue.setPriority(id, change.priority);
			break;
		}

		case 'run-started': {
			const {run} = change;
			state.queue.delete(run.id);
			state.running.set(run.runId, run);
			state.runningJobIds.add(run.id);
			state.nextRunId = Math.max(state.nextRunId, run.runId + 1);
			state.busySlots.set(run.worker, (state.busySlots.get(run.worker) ?? 0) + 1);
			refreshFreeWorker(state, run.worker);
			break;
		}

		case 'run-spawned': {
			const run = state.running.get(change.runId);
			if (!run) break;
			run.pid = change.pid;
			if (change.pidStartTime !== undefined) run.pidStartTime = change.pidStartTime;
			break;
		}

		case 'run-cancel-requested': {
			const run = state.running.get(change.runId);
			if (!run) break;
			run.cancelRequestedAt = change.at;
			run.cancelKillAt = change.killAt;
			if (change.timedOut) run.timedOut = true;
			break;
		}

		case 'run-abandoned': {
			const run = state.running.get(change.runId);
			if (!run) break;
			releaseRun(state, run);
			state.queue.add(queuedJobOf(run), true, false);
			break;
		}

		case 'run-finished': {
			const run = state.running.get(change.run.runId);
			if (!run) break;
			releaseRun(state, run);
			if (change.requeue) {
				state.queue.add(change.requeue, true, false);
			} else if (change.run.outcome === 'succeeded') {
				for (const id of state.dependencies.succeeded(run.id)) state.queue.release(id);
			}

			recordDependencyFailures(state, change.dependencyFailed);
			const worker = state.workers.get(run.worker);
			if (!worker) break;
			if (change.run.outcome === 'succeeded') worker.jobsDone++;
			else worker.jobsFailed++;
			if (worker.removeWhenIdle && !state.busySlots.has(worker.name)) state.workers.delete(worker.name);
			refreshFreeWorker(state, worker.name);
			break;
		}

		case 'paused': {
			state.paused = change.paused;
			break;
		}

		case 'retention-set': {
			state.retention = {...change.retention};
			break;
		}

		case 'state-replaced': {
			state.workers = new Map(change.workers.map(worker => [worker.name, worker]));
			rebuildQueue(state, change.queue);
			state.nextJobId = Math.max(state.nextJobId, change.nextJobId);
			rebuildFreeWorkers(state);
			break;
		}
	}
}

function queueJob(state: SchedulerState, job: QueuedJob): void {
	const pending = pendingDependencies(state, job);
	if (pending.length > 0) state.dependencies.add(job.id, pending);
	state.queue.add(job, false, pending.length > 0);
}

function removeQueued(state: SchedulerState, id: number): void {
	state.queue.delete(id);
	state.dependencies.forget(id);
}

function recordDependencyFailures(state: SchedulerState, runs: FinishedRun[] | undefined): void {
	for (const run of runs ?? []) {
		removeQueued(state, run.id);
		state.nextJobId = Math.max(state.nextJobId, run.id + 1);
		state.nextRunId = Math.max(state.nextRunId, run.runId + 1);
	}
}

/** A whole queue at once: a job may be listed before a job it waits for (a higher priority). */
function rebuildQueue(state: SchedulerState, jobs: readonly QueuedJob[]): void {
	state.queue = new JobQueue();
	state.dependencies = new Dependencies();
	const queued = jobs.some(job => job.after) ? new Set(jobs.map(job => job.id)) : new Set<number>();
	for (const job of jobs) {
		const pending = job.after ? job.after.filter(id => queued.has(id) || state.runningJobIds.has(id)) : noDependencies;
		if (pending.length > 0) state.dependencies.add(job.id, pending);
		// Listed in the order they are handed out: each joins the back of its priority, which keeps that order.
		state.queue.add(job, false, pending.length > 0);
	}
}

/** Every change that touches a worker's flags, health or busy slots calls this, so `freeWorkers` never goes stale. */
function refreshFreeWorker(state: SchedulerState, name: string): void {
	const worker = state.workers.get(name);
	if (worker) state.freeWorkers.set(name, takesJobs(worker) && (state.busySlots.get(name) ?? 0) < worker.slots, worker.tags);
	else state.freeWorkers.delete(name);
}

function rebuildFreeWorkers(state: SchedulerState): void {
	state.freeWorkers = new FreeWorkers();
	for (const name of state.workers.keys()) refreshFreeWorker(state, name);
}

function releaseRun(state: SchedulerState, run: JobRun): void {
	state.running.delete(run.runId);
	state.runningJobIds.delete(run.id);
	const busy = (state.busySlots.get(run.worker) ?? 1) - 1;
	if (busy > 0) state.busySlots.set(run.worker, busy);
	else state.busySlots.delete(run.worker);
	refreshFreeWorker(state, run.worker);
}

export function stateFromDocument(document: StateDocument): SchedulerState {
	const state = emptyState();
	state.nextJobId = document.nextJobId;
	state.nextRunId = document.nextRunId;
	state.paused = document.paused;
	state.retention = {...document.retention};
	for (const worker of document.workers) state.workers.set(worker.name, worker);
	for (const run of document.running) {
		state.running.set(run.runId, run);
		state.runningJobIds.add(run.id);
		state.busySlots.set(run.worker, (state.busySlots.get(run.worker) ?? 0) + 1);
	}

	rebuildQueue(state, document.queue);

	rebuildFreeWorkers(state);
	return state;
}

export function documentFromState(state: SchedulerState, journalSeq: number): StateDocument {
	return {
		format: 'jobdeck-state',
		version: 1,
		journalSeq,
		nextJobId: state.nextJobId,
		nextRunId: state.nextRunId,
		paused: state.paused,
		...(Object.keys(state.retention).length > 0 && {retention: state.retention}),
		workers: [...state.workers.values()],
		queue: [...state.queue.values()],
		running: [...state.running.values()],
	};
}

export function isStateDocument(value: unknown): value is StateDocument {
	if (typeof value !== 'object' || value === null) return false;
	const document = value as Partial<StateDocument>;
	return document.format === 'jobdeck-state'
		&& typeof document.journalSeq === 'number'
		&& Array.isArray(document.workers)
		&& Array.isArray(document.queue)
		&& Array.isArray(document.running);
}
