import type {EnvVars, FinishedRun, JobRun, QueuedJob, Worker} from './model.js';
import type {CleanRequest, CleanResult, RetentionStatus} from './retention.js';

// The one interface through which everything drives a scheduler: the
// command line, the headless server and the UI. Two implementations exist,
// the engine itself (same process) and a client over the control socket;
// callers never need to know which one they hold.

export type NewWorker = {
	name: string;
	slots?: number;
	env?: EnvVars;
	tags?: string[];
};

export type AddWorkersRequest = {
	workers: NewWorker[];
	/** Skip the non-interactive ssh login that proves each worker is reachable. */
	skipSshCheck?: boolean;
};

export type NewJob = {
	/** Absolute path, or relative to `cwd`. */
	script: string;
	args?: string[];
	env?: EnvVars;
	/** Where the job runs; the script is resolved against it. */
	cwd: string;
	/** Run a failed job again up to this many times. */
	retries?: number;
	retryDelayMs?: number;
	/** Cancel a run that goes on longer than this, and record it as timed out. */
	timeoutMs?: number;
	/** Run only on a worker that has every one of these tags. */
	needs?: string[];
	/** Higher runs first (default 0). */
	priority?: number;
	/** Run only once all these jobs have succeeded; if one fails for good, this one is recorded as `dependency-failed`. */
	after?: number[];
};

/** `now` refuses busy workers; `wait` lets their jobs finish; `kill` cancels them. */
export type RemoveWorkerMode = 'now' | 'wait' | 'kill';

export type JobSelector = {ids: number[]} | {script: string; args: string[]; cwd: string};

export type SchedulerSnapshot = {
	dataDir: string;
	logDir: string;
	/** False when the snapshot was read from the state files with no scheduler running. */
	running: boolean;
	paused: boolean;
	workers: Worker[];
	/** Every queued job, in the order they will be handed out; empty when asked for without (`{queue: false}`). */
	queue: QueuedJob[];
	/** How many jobs are queued, also when `queue` was left out. */
	queueLength: number;
	runningJobs: JobRun[];
	/** The newest finished runs, oldest first. */
	finished: FinishedRun[];
	totals: {done: number; failed: number};
	/** What keeps the scheduler from its work right now, on its own side (absent from a scheduler that knows none, or a saved state read offline). */
	faults?: SchedulerFault[];
	/** The retention policy and the last clean; absent from a scheduler older than retention. */
	retention?: RetentionStatus;
};

/**
 * A fault on the scheduler's side, not the jobs': it clears by itself once
 * the cause is gone. `logs`: no job's log can be made in the log dir (gone
 * and not made again, full, out of inodes, not writable): no job is handed
 * out until a re-check can write there. `exit-files`: the same for the jobs'
 * exit files in the data dir's runs/. `save`: the state cannot be saved (a
 * full data disk): what is shown is what the disk holds, and changes are
 * refused until a save succeeds again.
 */
export type SchedulerFault = {kind: 'logs' | 'exit-files' | 'save'; message: string; since: number};

export type SchedulerEvent = {at: number} & (
	/** `front`: jobs that came back after a run, served before the rest of the queue. */
	| {type: 'jobs-queued'; jobs: QueuedJob[]; front?: boolean}
	| {type: 'jobs-removed'; ids: number[]}
	/** Queued jobs whose settings changed (their priority): they replace the ones with the same ids. */
	| {type: 'jobs-updated'; jobs: QueuedJob[]}
	| {type: 'job-started'; run: JobRun}
	| {type: 'job-finished'; run: FinishedRun}
	/** The run never started, through no fault of the job's (its log or exit file could not be made): its job is back in the queue, first, with no retry used. */
	| {type: 'run-abandoned'; run: JobRun; reason: string}
	| {type: 'cancel-requested'; runId: number; id: number; timedOut?: boolean}
	| {type: 'workers-added'; workers: Worker[]}
	| {type: 'worker-updated'; worker: Worker}
	| {type: 'worker-removed'; name: string}
	/** Its runs kept ending with the unreachable exit code: it gets no job until it answers again. */
	| {type: 'worker-offline'; name: string; exitCode: number; runs: number; nextCheckAt: number}
	| {type: 'worker-online'; name: string; how: 'answered' | 'probation' | 'enabled'}
	| {type: 'worker-recheck-failed'; name: string; message: string; nextCheckAt: number}
	| {type: 'paused'}
	| {type: 'resumed'}
	| {type: 'state-loaded'}
	/** A fault on the scheduler's side began, or its message changed. */
	| {type: 'fault'; fault: SchedulerFault}
	| {type: 'fault-cleared'; kind: SchedulerFault['kind']}
	| {type: 'stopping'}
	/** Something went wrong that no request is waiting to hear about, such as a failed save. */
	| {type: 'error'; message: string}
	/** To a subscriber that asked for `queue: 'counts'`: the queue changed, and is now this long. */
	| {type: 'queue-changed'; length: number}
	/** Only from a client over the socket: the scheduler went away (stopped, killed); what was known of it is now stale. */
	| {type: 'connection-lost'; message: string; /** It is there but answers nothing, not even a heartbeat (frozen, stuck). */ unresponsive?: boolean}
	/** Only from a client over the socket: a scheduler answers on the data dir again; take a fresh snapshot. */
	| {type: 'connection-restored'}
);

export type SchedulerEventListener = (events: SchedulerEvent[]) => void;

export type SnapshotOptions = {
	/** False leaves the queued jobs out (a screen asks for the page it shows with `queuePage`). */
	queue?: boolean;
};

export type SubscribeOptions = {
	/**
	 * `counts`: instead of `jobs-queued` and `jobs-removed` with every job in
	 * them (100,000 for one `add-job --each`), one `queue-changed` per batch
	 * that changed the queue, with its new length.
	 */
	queue?: 'jobs' | 'counts';
};

export type QueuePageRequest = {
	/** Position of the first job wanted, from 0, among those the filter lets through. */
	offset: number;
	limit: number;
	/** Case-insensitive text the job's `#ID SCRIPT ARGS` must contain (the UI's `/` filter). */
	filter?: string;
};

/** A queued job with why it is not running yet, in words ("needs gpu: no worker has it"). */
export type WaitingJob = QueuedJob & {waiting: string};

export type QueuePage = {
	offset: number;
	jobs: WaitingJob[];
	/** How many queued jobs the filter lets through, all told. */
	total: number;
};

/**
 * `jobs`: the last run of each of these jobs (one at most per job, none for a job that never ran);
 * `newest`: the newest finished runs, oldest first, as many as asked or all of them.
 */
export type FinishedRunsQuery = {jobs: number[]} | {newest: number | 'all'};

export type Scheduler = {
	snapshot(options?: SnapshotOptions): Promise<SchedulerSnapshot>;
	/** Events arrive in batches, in the order they happened. Returns the unsubscribe function. */
	subscribe(listener: SchedulerEventListener, options?: SubscribeOptions): () => void;
	/** A stretch of the queue, in the order it is handed out, filtered by the scheduler: a screen never needs the whole queue. */
	queuePage(request: QueuePageRequest): Promise<QueuePage>;
	/** Finished runs from the scheduler's memory and its history file, which it alone merges (a run reaches the file a moment after it ends). */
	finishedRuns(query: FinishedRunsQuery): Promise<FinishedRun[]>;

	addWorkers(request: AddWorkersRequest): Promise<Worker[]>;
	removeWorkers(names: string[], mode: RemoveWorkerMode): Promise<void>;
	setWorkersDrained(names: string[], drained: boolean): Promise<void>;
	/** Adds and removes tags of workers; returns the workers as they are now. */
	tagWorkers(names: string[], add: string[], remove: string[]): Promise<Worker[]>;

	addJobs(jobs: NewJob[]): Promise<QueuedJob[]>;
	/** Removes queued jobs; returns the ids removed. */
	removeJobs(selector: JobSelector): Promise<number[]>;
	/** Cancels running jobs (SIGTERM to the group, SIGKILL after `graceMs`) and removes queued ones. */
	cancelJobs(ids: number[], graceMs?: number): Promise<void>;
	/** Queues finished jobs again, and the jobs recorded `dependency-failed` because of them; returns them. */
	retryJobs(ids: number[]): Promise<QueuedJob[]>;
	/** Sets the priority of queued jobs; returns them. */
	setJobPriority(ids: number[], priority: number): Promise<QueuedJob[]>;

	/** Removes finished runs' records and log files (`jobdeck clean`); keeps the runs something still needs. */
	clean(request: CleanRequest): Promise<CleanResult>;

	setPaused(paused: boolean): Promise<void>;
	/** Replaces workers and queue with those of a saved status (ours or the original tool's). */
	loadStatus(status: unknown, cwd: string): Promise<void>;
	/** Stops the scheduler; running jobs keep running and are adopted by the next start. */
	stop(): Promise<void>;
};

export const defaultCancelGraceMs = 10_000;
