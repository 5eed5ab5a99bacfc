import {workerState, type FinishedRun, type JobRun, type Worker, type WorkerState} from './model.js';
import type {RetentionStatus} from './retention.js';
import type {SchedulerFault, SchedulerSnapshot, WaitingJob} from './scheduler.js';
import {unfinishedIn, waitReasons} from './wait-reason.js';

// The shape of `jobdeck status --json`: a documented interface that scripts
// rely on (and that `load-status` reads back). Add fields; never rename or
// remove one.

export type StatusJson = {
	scheduler: {
		running: boolean;
		paused: boolean;
		dataDir: string;
		logDir: string;
		/**
		 * The retention policy (docs/status-json.md): `keepFinished` (runs) and
		 * `keepForMs` (milliseconds), null when that bound is off;
		 * `finishedRuns`, the runs in the history now (null unless a
		 * keepFinished policy made the scheduler count them); `lastClean`, what
		 * the last clean since the scheduler started removed (null: none), by
		 * `jobdeck clean` or by the policy.
		 */
		retention: RetentionStatus;
		/**
		 * The scheduler's own trouble, which clears by itself (unlike `paused`, the user's pause, which
		 * stays until `resume`): `logs` (no job is handed out: no log can be made), `exit-files` (the same: no exit
		 * file can be made in runs/), `save` (the state cannot be saved).
		 */
		faults: SchedulerFault[];
	};
	workers: Array<Worker & {state: WorkerState; runningJobs: number[]}>;
	/** `waiting`: why the job is not running yet, in words ("needs gpu: no worker has it"). */
	queue: WaitingJob[];
	running: JobRun[];
	finished: FinishedRun[];
};

export function statusJson(snapshot: SchedulerSnapshot, now = Date.now()): StatusJson {
	const reasonOf = waitReasons({paused: snapshot.paused, workers: snapshot.workers, unfinished: unfinishedIn(snapshot.queue, snapshot.runningJobs)}, now);
	const runningOn = new Map<string, number[]>();
	for (const run of snapshot.runningJobs) runningOn.set(run.worker, [...(runningOn.get(run.worker) ?? []), run.id]);
	return {
		scheduler: {
			running: snapshot.running,
			paused: snapshot.paused,
			dataDir: snapshot.dataDir,
			logDir: snapshot.logDir,
			retention: snapshot.retention ?? {keepFinished: null, keepForMs: null, finishedRuns: null, lastClean: null},
			faults: snapshot.faults ?? [],
		},
		workers: snapshot.workers.map(worker => {
			const runningJobs = runningOn.get(worker.name) ?? [];
			return {...worker, state: workerState(worker, runningJobs.length), runningJobs};
		}),
		queue: snapshot.queue.map(job => ({...job, waiting: reasonOf(job)})),
		running: snapshot.runningJobs,
		finished: snapshot.finished,
	};
}
