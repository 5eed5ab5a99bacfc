import type {QueuedJob} from '../../core/model.js';
import type {WorkerClass} from './free-workers.js';
import {jobComesFirst, type ReadyGroup} from './job-queue.js';
import type {SchedulerState} from './scheduler-state.js';

// Which ready job goes to which free worker next. The best head among the
// groups of ready jobs (by the tags they need) that some free worker can
// serve, on the worker with the fewest tags (so that a plain job leaves the
// gpu workers free for the jobs that need them), the first added among
// equals. The cost is the number of groups times the number of distinct tag
// sets among workers, both small, and does not grow with the queue or the
// fleet.

export type Match = {job: QueuedJob; worker: string};

export function nextMatch(state: SchedulerState): Match | undefined {
	let best: {job: QueuedJob; worker: string} | undefined;
	for (const group of state.queue.groups()) {
		const job = group.head();
		if (!job || (best && !jobComesFirst(state.queue, job, best.job))) continue;
		let worker: {name: string; ordinal: number; tags: number} | undefined;
		for (const workerClass of state.freeWorkers.classes()) {
			if (!serves(workerClass, group)) continue;
			const first = workerClass.first();
			const tags = workerClass.tags.size;
			if (first && (!worker || tags < worker.tags || (tags === worker.tags && first.ordinal < worker.ordinal))) worker = {...first, tags};
		}

		if (worker) best = {job, worker: worker.name};
	}

	return best;
}

function serves(workerClass: WorkerClass, group: ReadyGroup): boolean {
	return group.needs.every(tag => workerClass.tags.has(tag));
}
