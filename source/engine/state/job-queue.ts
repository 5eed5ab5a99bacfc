import type {QueuedJob} from '../../core/model.js';

// The queue of jobs waiting for a slot. New jobs join at the back, first in,
// first out. A job that comes back after a run (a retry, a worker that could
// not be reached, a run that never started) already waited its turn, so it
// joins a front lane that is served before everything else. Both lanes are
// Maps: insertion order, and removal by id in O(1) even with 100,000 jobs.

export class JobQueue {
	readonly #front = new Map<number, QueuedJob>();
	readonly #back = new Map<number, QueuedJob>();

	constructor(jobs: Iterable<QueuedJob> = []) {
		for (const job of jobs) this.#back.set(job.id, job);
	}

	get size(): number {
		return this.#front.size + this.#back.size;
	}

	has(id: number): boolean {
		return this.#front.has(id) || this.#back.has(id);
	}

	get(id: number): QueuedJob | undefined {
		return this.#front.get(id) ?? this.#back.get(id);
	}

	pushBack(job: QueuedJob): void {
		this.delete(job.id);
		this.#back.set(job.id, job);
	}

	/** Behind the other jobs that came back, ahead of every job that never ran. */
	pushFront(job: QueuedJob): void {
		this.delete(job.id);
		this.#front.set(job.id, job);
	}

	delete(id: number): boolean {
		return this.#front.delete(id) || this.#back.delete(id);
	}

	clear(): void {
		this.#front.clear();
		this.#back.clear();
	}

	* keys(): IterableIterator<number> {
		for (const job of this.values()) yield job.id;
	}

	/** In the order they will be handed out. */
	* values(): IterableIterator<QueuedJob> {
		yield * this.#front.values();
		yield * this.#back.values();
	}
}
