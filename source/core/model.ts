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
};

export type WorkerState = 'idle' | 'busy' | 'draining';

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
};

export type RunOutcome = 'succeeded' | 'failed' | 'cancelled' | 'lost';

/** A run that ended, as kept in the history file. */
export type FinishedRun = Omit<JobRun, 'pidStartTime' | 'cancelRequestedAt' | 'cancelKillAt'> & {
	endedAt: number;
	/** The exit code, or null when a signal ended the job (or it vanished without one). */
	exitCode: number | null;
	/** The signal that ended the job, such as "SIGTERM", or null. */
	signal: string | null;
	outcome: RunOutcome;
};

export function workerState(worker: Worker, runningJobs: number): WorkerState {
	if (worker.drained || worker.removeWhenIdle) return 'draining';
	return runningJobs > 0 ? 'busy' : 'idle';
}

export function runOutcome(exitCode: number | null, signal: string | null, cancelled: boolean): RunOutcome {
	if (cancelled && exitCode !== 0) return 'cancelled';
	if (exitCode === 0) return 'succeeded';
	if (exitCode === null && signal === null) return 'lost';
	return 'failed';
}
