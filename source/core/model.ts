// The vocabulary every part of jobdeck shares: the engine keeps these, the
// control socket carries them, the UI and `status --json` show them.
// Times are milliseconds since the Unix epoch.

export type EnvVars = Record<string, string>;

/** A machine (or anything a job script knows how to reach) that runs jobs. */
export type Worker = {
	name: string;
	/** How many jobs this worker runs at once. */
	slots: number;
	/** Given to every job that runs on this worker, under the job's own env. */
	env: EnvVars;
	addedAt: number;
	/** Set by `remove-worker --wait`: the worker takes no new job and goes when its jobs end. */
	removeWhenIdle: boolean;
	/** Set by `disable` / the UI's drain key: the worker finishes its jobs and takes no new one. */
	drained: boolean;
	jobsDone: number;
	jobsFailed: number;
	/** Whether the worker passed the ssh login check when it was added: an offline one is then re-checked the same way. */
	sshChecked?: boolean;
	/** Runs in a row that ended with the "unreachable" exit code (ssh's 255). */
	unreachableStreak?: number;
	/** Set when the worker looks unreachable: it gets no job until a re-check says it answers again. */
	offline?: WorkerOffline;
	/** Re-checks that failed since the worker last ran a job properly: they set how long the next offline spell waits. */
	failedRechecks?: number;
	/** What the worker offers (`gpu`, `mem256`), sorted; a job that needs tags runs only where all of them are. Absent: none. */
	tags?: string[];
};

export type WorkerOffline = {
	since: number;
	/** Re-checks that failed so far: each one doubles the wait before the next. */
	checks: number;
	nextCheckAt: number;
};

export type WorkerState = 'idle' | 'busy' | 'draining' | 'offline';

/** A job waiting for a free worker slot. */
export type QueuedJob = {
	id: number;
	/** Absolute path of the executable. */
	script: string;
	/** Passed to the script as its argv, byte for byte: never through a shell. */
	args: string[];
	env: EnvVars;
	/** The directory `add-job` ran in: the job runs there too. */
	cwd: string;
	queuedAt: number;
	/** How many times a failed run is run again (0 when absent). */
	retries?: number;
	/** Wait this long after a failed run before the next attempt. */
	retryDelayMs?: number;
	/** A run still going after this long is cancelled and recorded as timed out. */
	timeoutMs?: number;
	/** Which attempt the next run is, from 1 (absent: 1). */
	attempt?: number;
	/** Runs lost to an unreachable worker: they do not spend a retry, up to a limit. */
	unreachableRequeues?: number;
	/** A retry waits in the queue until then. */
	notBefore?: number;
	/** Tags a worker must have, every one of them, to run this job; sorted. */
	needs?: string[];
	/** Higher runs first; first in, first out among equals (absent: 0). */
	priority?: number;
	/** Jobs that must have succeeded (after their retries) before this one may run. */
	after?: number[];
};

/** One attempt at running a job, while it runs. `runId` is the job's JOB_ID. */
export type JobRun = QueuedJob & {
	runId: number;
	worker: string;
	startedAt: number;
	logFile: string;
	/** Known once the process is spawned; a run without one was never started. */
	pid?: number;
	/** The kernel's start time of `pid`, so a recycled pid is never mistaken for the job. */
	pidStartTime?: number;
	cancelRequestedAt?: number;
	/** When a cancelled job that ignores SIGTERM gets SIGKILL. */
	cancelKillAt?: number;
	/** Set when the cancel came from the job's own timeout rather than from a user. */
	timedOut?: boolean;
};

/** `dependency-failed`: the job never ran, as a job it waited on failed for good or was cancelled. */
export type RunOutcome = 'succeeded' | 'failed' | 'cancelled' | 'timed-out' | 'lost' | 'dependency-failed';

/** Why a job went back to the queue after a run: another attempt, or its worker could not be reached. */
export type RequeueReason = 'retry' | 'worker-unreachable';

/** A run that ended, as kept in the history file. */
export type FinishedRun = Omit<JobRun, 'pidStartTime' | 'cancelRequestedAt' | 'cancelKillAt' | 'timedOut' | 'notBefore'> & {
	endedAt: number;
	/** The exit code, or null when a signal ended the job (or it vanished without one). */
	exitCode: number | null;
	/** The signal that ended the job, such as "SIGTERM", or null. */
	signal: string | null;
	outcome: RunOutcome;
	/** Set when the job was queued again after this run, so this run was not its last. */
	requeued?: RequeueReason;
	/** With outcome `dependency-failed`: the job whose failure (or cancel) means this one will not run. */
	dependencyFailed?: number;
};

export function workerState(worker: Worker, runningJobs: number): WorkerState {
	if (worker.drained || worker.removeWhenIdle) return 'draining';
	if (worker.offline) return 'offline';
	return runningJobs > 0 ? 'busy' : 'idle';
}

/** Whether the scheduler may hand this worker a new job (slots aside). */
export function takesJobs(worker: Worker): boolean {
	return !worker.drained && !worker.removeWhenIdle && !worker.offline;
}

export function runOutcome(exitCode: number | null, signal: string | null, cancel: {requested: boolean; timedOut: boolean}): RunOutcome {
	if (cancel.requested && exitCode !== 0) return cancel.timedOut ? 'timed-out' : 'cancelled';
	if (exitCode === 0) return 'succeeded';
	if (exitCode === null && signal === null) return 'lost';
	return 'failed';
}

/** The job a run belongs to, as it would wait in the queue: only the job's own fields. */
export function queuedJobOf(run: QueuedJob): QueuedJob {
	const {id, script, args, env, cwd, queuedAt, retries, retryDelayMs, timeoutMs, attempt, unreachableRequeues, needs, priority, after} = run;
	return {
		id, script, args, env, cwd, queuedAt,
		...(retries !== undefined && {retries}),
		...(retryDelayMs !== undefined && {retryDelayMs}),
		...(timeoutMs !== undefined && {timeoutMs}),
		...(attempt !== undefined && {attempt}),
		...(unreachableRequeues !== undefined && {unreachableRequeues}),
		...(needs !== undefined && {needs}),
		...(priority !== undefined && {priority}),
		...(after !== undefined && {after}),
	};
}
