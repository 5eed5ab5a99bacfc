import {join} from 'node:path';
import type {JobRun} from '../core/model.js';
import type {EngineContext} from './engine-context.js';
import {nextMatch} from './state/next-match.js';
import {present} from '../core/present.js';
import {errorMessage} from '../core/error-message.js';

// Dispatch: hand queued jobs to free worker slots, each to the slot nextMatch
// picks (the best head among the ready jobs, by priority, then the first queued).

/** After a failed save (a full disk), no job starts for this long, and then the runs are looked at again. */
export const afterSaveFailureMs = 1000;

/** One timer for the next retry whose delay runs out. */
const wakeTimer = 'dispatch-wake';

export class Dispatcher {
	/** Spawns under way; `stop` waits for them so that no run is left half started. */
	readonly spawning = new Set<Promise<void>>();
	/** When the last save failed: no job starts for afterSaveFailureMs after it. */
	saveFailedAt = 0;
	readonly #context: EngineContext;
	readonly #spawn: (run: JobRun) => Promise<void>;
	#dispatchScheduled = false;

	constructor(context: EngineContext, spawn: (run: JobRun) => Promise<void>) {
		this.#context = context;
		this.#spawn = spawn;
	}

	scheduleDispatch(): void {
		if (this.#dispatchScheduled) return;
		this.#dispatchScheduled = true;
		// One pass per burst of changes, not one per change.
		setImmediate(() => {
			this.#dispatchScheduled = false;
			this.#dispatch();
		});
	}

	#dispatch(): void {
		// The user's pause, or the scheduler's own while no log or no exit file can be made (it re-checks, and dispatches once it clears).
		if (this.#context.isStopping() || this.#context.state.paused || this.#context.faults.has('logs') || this.#context.faults.has('exit-files')) return;
		const now = Date.now();
		if (now - this.saveFailedAt < afterSaveFailureMs) {
			this.#wakeAt(this.saveFailedAt + afterSaveFailureMs);
			return;
		}

		const nextRetryAt = this.#context.state.queue.promoteDue(now);
		if (nextRetryAt !== undefined) this.#wakeAt(nextRetryAt);
		const started: Array<{run: JobRun; saved: Promise<void>}> = [];
		for (let match = nextMatch(this.#context.state); match; match = nextMatch(this.#context.state)) {
			const {job} = match;
			const worker = present(this.#context.state.workers.get(match.worker), `worker ${match.worker}`);
			const runId = this.#context.state.nextRunId;
			const run: JobRun = {
				...job,
				runId,
				worker: worker.name,
				startedAt: Date.now(),
				logFile: join(this.#context.logDir, `job_${runId}.txt`),
			};
			// The run is on disk before its process exists, so a crash can never start it twice.
			const saved = this.#context.store.apply([{type: 'run-started', run}]);
			this.#context.bus.publishWhenSaved(saved, [{type: 'job-started', run, at: run.startedAt}]);
			started.push({run, saved});
		}

		for (const {run, saved} of started) {
			const spawning = saved.then(
				() => this.#spawn(run),
				(error: unknown) => this.#context.bus.emit({type: 'error', message: `job ${run.id} was not started: ${errorMessage(error)}`, at: Date.now()}),
			);
			this.spawning.add(spawning);
			void spawning.finally(() => this.spawning.delete(spawning));
		}
	}

	/** Dispatches again when a retry's delay runs out. */
	#wakeAt(at: number): void {
		const due = this.#context.timers.dueAt(wakeTimer);
		if (due !== undefined && due <= at) return;
		this.#context.timers.at(wakeTimer, at, () => {
			this.scheduleDispatch();
		});
	}
}
