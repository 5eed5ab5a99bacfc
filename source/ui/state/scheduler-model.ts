import type {FinishedRun, JobRun, QueuedJob, Worker} from '../../core/model.js';
import type {SchedulerEvent, SchedulerSnapshot} from '../../core/scheduler.js';

// The UI's own copy of the scheduler's state: one snapshot at mount, then
// every event applied in order. Events that arrive before the snapshot
// resolves may already be part of it, so every change is applied so that
// applying it twice changes nothing.

export type SchedulerModel = {
	readonly dataDir: string;
	readonly paused: boolean;
	readonly stopping: boolean;
	/** In the order they were added. */
	readonly workers: ReadonlyMap<string, Worker>;
	/** Higher priority first, then first in, first out: in the order the scheduler hands them out (tags and dependencies aside). */
	readonly queue: readonly QueuedJob[];
	readonly running: ReadonlyMap<number, JobRun>;
	/** The newest finished runs, oldest first, at most `historyKept`. */
	readonly finished: readonly FinishedRun[];
	readonly totals: {readonly done: number; readonly failed: number};
	readonly session: SessionProgress;
	/** The last problem the scheduler reported that nobody asked about. */
	readonly lastError?: {readonly message: string; readonly at: number};
};

/** What the header's progress bar counts: this UI session only. */
export type SessionProgress = {
	readonly startedAt: number;
	readonly finished: number;
	readonly firstFinishAt?: number;
};

export const historyKept = 1000;

export function modelFromSnapshot(snapshot: SchedulerSnapshot, session?: SessionProgress): SchedulerModel {
	return {
		dataDir: snapshot.dataDir,
		paused: snapshot.paused,
		stopping: !snapshot.running,
		workers: new Map(snapshot.workers.map(worker => [worker.name, worker])),
		queue: snapshot.queue,
		running: new Map(snapshot.runningJobs.map(run => [run.runId, run])),
		finished: snapshot.finished.slice(-historyKept),
		totals: snapshot.totals,
		session: session ?? {startedAt: Date.now(), finished: 0},
	};
}

/** Applies a batch of events in one pass: a batch may hold thousands, the queue 100,000 jobs. */
export function applyEvents(model: SchedulerModel, events: readonly SchedulerEvent[]): SchedulerModel {
	const queue = new QueueEdit(model.queue);
	let workers: Map<string, Worker> | undefined;
	let running: Map<number, JobRun> | undefined;
	let finished: FinishedRun[] | undefined;
	let {paused, stopping, totals, session, lastError} = model;
	const editWorkers = (): Map<string, Worker> => (workers ??= new Map(model.workers));
	const editRunning = (): Map<number, JobRun> => (running ??= new Map(model.running));

	for (const event of events) {
		switch (event.type) {
			case 'jobs-queued': {
				queue.add(event.jobs, event.front === true);
				break;
			}

			case 'jobs-removed': {
				queue.remove(event.ids);
				break;
			}

			case 'jobs-updated': {
				queue.update(event.jobs);
				break;
			}

			case 'job-started': {
				queue.remove([event.run.id]);
				editRunning().set(event.run.runId, event.run);
				break;
			}

			case 'job-finished': {
				editRunning().delete(event.run.runId);
				finished ??= [...model.finished];
				if (finished.some(run => run.runId === event.run.runId)) break;
				finished.push(event.run);
				const failed = event.run.outcome !== 'succeeded';
				totals = {done: totals.done + (failed ? 0 : 1), failed: totals.failed + (failed ? 1 : 0)};
				session = {...session, finished: session.finished + 1, firstFinishAt: session.firstFinishAt ?? event.at};
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

			// A fresh snapshot replaces everything; use-scheduler-state takes it.
			case 'state-loaded': {
				break;
			}
		}
	}

	return {
		...model,
		paused,
		stopping,
		totals,
		session,
		lastError,
		workers: workers ?? model.workers,
		running: running ?? model.running,
		finished: finished ? finished.slice(-historyKept) : model.finished,
		queue: queue.result(),
	};
}

/**
 * Edits to a long queue, applied once at the end: copying 100,000 jobs for
 * each of a batch's events would cost more than the rest of the frame.
 */
class QueueEdit {
	readonly #original: readonly QueuedJob[];
	readonly #removedFromOriginal = new Set<number>();
	/** Jobs queued by this batch, by id, in the order they came. */
	readonly #appended = new Map<number, QueuedJob>();
	/** Jobs back after a run (a retry, an unreachable worker): the scheduler serves them first. */
	readonly #front = new Map<number, QueuedJob>();
	#originalIds: Set<number> | undefined;

	constructor(original: readonly QueuedJob[]) {
		this.#original = original;
	}

	add(jobs: readonly QueuedJob[], front: boolean): void {
		for (const job of jobs) {
			if (!this.#isQueued(job.id)) (front ? this.#front : this.#appended).set(job.id, job);
		}
	}

	remove(ids: readonly number[]): void {
		// A retried job comes back with its old id, but never while it is still queued.
		for (const id of ids) {
			if (!this.#appended.delete(id) && !this.#front.delete(id)) this.#removedFromOriginal.add(id);
		}
	}

	/** A job whose priority changed goes behind the jobs already at its new priority, as in the scheduler. */
	update(jobs: readonly QueuedJob[]): void {
		for (const job of jobs) {
			if (!this.#isQueued(job.id)) continue;
			this.remove([job.id]);
			this.#appended.set(job.id, job);
		}
	}

	result(): readonly QueuedJob[] {
		if (this.#removedFromOriginal.size === 0 && this.#appended.size === 0 && this.#front.size === 0) return this.#original;
		const kept = this.#removedFromOriginal.size === 0 ? this.#original : this.#original.filter(job => !this.#removedFromOriginal.has(job.id));
		const queue = [...this.#front.values(), ...kept, ...this.#appended.values()];
		// Stable: equal priorities keep their order. Most queues have none, and skip the sort.
		return queue.some(job => job.priority !== undefined) ? queue.sort((left, right) => (right.priority ?? 0) - (left.priority ?? 0)) : queue;
	}

	#isQueued(id: number): boolean {
		if (this.#appended.has(id) || this.#front.has(id)) return true;
		this.#originalIds ??= new Set(this.#original.map(job => job.id));
		return this.#originalIds.has(id) && !this.#removedFromOriginal.has(id);
	}
}
