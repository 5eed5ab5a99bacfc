import {formatDuration} from './format-duration.js';
import {takesJobs, type JobRun, type QueuedJob, type Worker} from './model.js';

// Why a queued job is not running yet, in words for `status`, `wait` and the
// UI's queue pane: so that a job that no worker can take, or that waits for
// another, does not leave the user guessing. Worked out from what a snapshot
// holds; the answers for one set of needed tags are shared, so a queue of
// 100,000 jobs costs one look at the workers per distinct set.

export type WaitContext = {
	paused: boolean;
	workers: Iterable<Worker>;
	/** Whether a job is still queued or running: a job waits only for those of its `after` jobs. */
	unfinished: (id: number) => boolean;
};

/** The `unfinished` of a snapshot's lists. */
export function unfinishedIn(queue: Iterable<QueuedJob>, running: Iterable<JobRun>): (id: number) => boolean {
	const ids = new Set<number>();
	for (const job of queue) ids.add(job.id);
	for (const run of running) ids.add(run.id);
	return id => ids.has(id);
}

export function waitReasons(context: WaitContext, now: number): (job: QueuedJob) => string {
	const workersFor = noWorkerReasons(context.workers);
	return job => {
		const waitingFor = (job.after ?? []).filter(id => context.unfinished(id));
		if (waitingFor.length > 0) return `waiting for job ${waitingFor.join(', ')}`;
		const noWorker = workersFor(job.needs ?? []);
		if (noWorker) return noWorker;
		if (job.notBefore !== undefined && job.notBefore > now) return `retry in ${formatDuration(job.notBefore - now)}`;
		if (context.paused) return 'paused';
		return job.needs ? `every ${job.needs.join(',')} worker is busy` : 'every worker is busy';
	};
}

/**
 * Why no worker could take a job, as things stand, even if one were idle (so that waiting for it may
 * take forever); undefined when one could.
 */
export function noWorkerReasons(workerList: Iterable<Worker>): (needs: readonly string[]) => string | undefined {
	const workers = [...workerList];
	const byNeeds = new Map<string, string | undefined>();
	return needs => {
		const key = needs.join(',');
		if (!byNeeds.has(key)) byNeeds.set(key, whyNoWorker(workers, needs));
		return byNeeds.get(key);
	};
}

/** Why no worker could take a job with these needs even if one were idle; undefined when one could. */
function whyNoWorker(workers: readonly Worker[], needs: readonly string[]): string | undefined {
	const has = (worker: Worker, tag: string) => worker.tags?.includes(tag) ?? false;
	const wanted = needs.join(',');
	if (needs.length > 0) {
		const missing = needs.filter(tag => !workers.some(worker => has(worker, tag)));
		if (missing.length > 0) return `needs ${missing.join(',')}: no worker has ${missing.length === 1 ? 'it' : 'them'}`;
	}

	const matching = workers.filter(worker => needs.every(tag => has(worker, tag)));
	if (matching.length === 0) return workers.length === 0 ? 'no worker yet' : `needs ${wanted}: no worker has all of them`;
	if (!matching.some(worker => takesJobs(worker))) {
		return needs.length === 0 ? 'every worker is draining or offline' : `needs ${wanted}: every worker with it is draining or offline`;
	}

	return undefined;
}
