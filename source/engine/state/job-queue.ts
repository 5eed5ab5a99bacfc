import type {QueuedJob} from '../../core/model.js';
import {present} from '../../core/present.js';
import {Heap} from './heap.js';

// The queue of jobs waiting for a slot. Higher priority first; among equals,
// a job that came back after a run (a retry, a worker that could not be
// reached, a run that never started) already waited its turn and goes before
// the jobs that never ran; then first in, first out. A job whose priority
// changes goes behind the jobs already at its new priority.
//
// Not every queued job can run: one may wait for jobs it runs after (held),
// or for its retry delay (delayed). The others are ready, grouped by the set
// of tags they need (few distinct sets), each group a heap in queue order,
// so that a free worker finds its next job by looking at the head of each
// group it can serve: no scan of the queue, however long.

type Entry = {
	readonly job: QueuedJob;
	readonly priority: number;
	readonly front: boolean;
	/** Queue order among jobs of one priority and lane. */
	readonly seq: number;
	state: 'held' | 'delayed' | 'ready' | 'gone';
};

/** Ready jobs that need one same set of tags. */
export class ReadyGroup {
	readonly key: string;
	readonly needs: readonly string[];
	readonly heap = new Heap<Entry>(comesFirst);
	/** Entries in the heap that are still ready; the others are dropped when they reach the top. */
	live = 0;

	constructor(key: string, needs: readonly string[]) {
		this.key = key;
		this.needs = needs;
	}

	/** The job this group hands out next. */
	head(): QueuedJob | undefined {
		for (let entry = this.heap.peek(); entry !== undefined; entry = this.heap.peek()) {
			if (entry.state === 'ready') return entry.job;
			this.heap.pop();
		}

		return undefined;
	}
}

/** Whether `left` is handed out before `right`. */
function comesFirst(left: Entry, right: Entry): boolean {
	if (left.priority !== right.priority) return left.priority > right.priority;
	if (left.front !== right.front) return left.front;
	return left.seq < right.seq;
}

/** When a delayed job may run: only jobs with a retry delay are ever delayed. */
function dueAt(entry: Entry): number {
	return present(entry.job.notBefore, `notBefore of delayed job ${entry.job.id}`);
}

/** Whether job `left` is handed out before job `right`, both at the heads of their groups. */
export function jobComesFirst(queue: JobQueue, left: QueuedJob, right: QueuedJob): boolean {
	return comesFirst(present(queue.entry(left.id), `queue entry of job ${left.id}`), present(queue.entry(right.id), `queue entry of job ${right.id}`));
}

export class JobQueue {
	/** Every queued job, in the order it joined (queue order among equals). */
	readonly #entries = new Map<number, Entry>();
	/** Jobs with a priority or back after a run: while there are none, #entries is already in the order of handing out. */
	#unusual = 0;
	readonly #groups = new Map<string, ReadyGroup>();
	readonly #delayed = new Heap<Entry>((left, right) => dueAt(left) < dueAt(right));
	#seq = 0;

	get size(): number {
		return this.#entries.size;
	}

	has(id: number): boolean {
		return this.#entries.has(id);
	}

	get(id: number): QueuedJob | undefined {
		return this.#entries.get(id)?.job;
	}

	entry(id: number): Entry | undefined {
		return this.#entries.get(id);
	}

	/** `front`: a job back after a run; `held`: it waits for other jobs, until `release`. */
	add(job: QueuedJob, front: boolean, held: boolean): void {
		this.delete(job.id);
		const priority = job.priority ?? 0;
		const entry: Entry = {job, priority, front, seq: this.#seq++, state: 'held'};
		this.#entries.set(job.id, entry);
		if (priority !== 0 || front) this.#unusual++;
		if (!held) this.#unhold(entry);
	}

	/** A held job whose last awaited job succeeded. */
	release(id: number): void {
		const entry = this.#entries.get(id);
		if (entry?.state === 'held') this.#unhold(entry);
	}

	setPriority(id: number, priority: number): void {
		const entry = this.#entries.get(id);
		if (!entry || entry.priority === priority) return;
		// A priority of 0 is stored as none, as `add-job` stores it.
		const {priority: _previous, ...job} = entry.job;
		this.add(priority === 0 ? job : {...job, priority}, entry.front, entry.state === 'held');
	}

	delete(id: number): boolean {
		const entry = this.#entries.get(id);
		if (!entry) return false;
		this.#entries.delete(id);
		if (entry.priority !== 0 || entry.front) this.#unusual--;

		if (entry.state === 'ready') this.#leaveGroup(entry);
		entry.state = 'gone';
		return true;
	}

	/** Makes the retries whose delay ran out ready; returns when the next one is due. */
	promoteDue(now: number): number | undefined {
		for (let entry = this.#delayed.peek(); entry !== undefined; entry = this.#delayed.peek()) {
			if (entry.state !== 'delayed') {
				this.#delayed.pop();
				continue;
			}

			const due = dueAt(entry);
			if (due > now) return due;
			this.#delayed.pop();
			this.#makeReady(entry);
		}

		return undefined;
	}

	/** The groups of ready jobs, by the tags they need. */
	groups(): IterableIterator<ReadyGroup> {
		return this.#groups.values();
	}

	* keys(): IterableIterator<number> {
		for (const job of this.values()) yield job.id;
	}

	/**
	 * The first `count` jobs in the order they are handed out. A screen asks for
	 * a page of a queue that may hold 100,000 jobs every time the queue changes:
	 * with priorities or jobs back after a run in it, only the first `count` are
	 * sorted, not the whole queue.
	 */
	first(count: number): QueuedJob[] {
		if (count <= 0) return [];
		if (this.#unusual === 0 || count >= this.#entries.size) return [...this.values()].slice(0, count);
		// The top of this heap is the last of the `count` that come first so far.
		const kept = new Heap<Entry>((left, right) => comesFirst(right, left));
		for (const entry of this.#entries.values()) {
			if (kept.size < count) kept.push(entry);
			else if (comesFirst(entry, present(kept.peek(), 'kept heap top'))) {
				kept.pop();
				kept.push(entry);
			}
		}

		return [...kept].sort((left, right) => (comesFirst(left, right) ? -1 : 1)).map(entry => entry.job);
	}

	/** In the order they are handed out (tags, dependencies and retry delays aside). */
	* values(): IterableIterator<QueuedJob> {
		if (this.#unusual === 0) {
			for (const entry of this.#entries.values()) yield entry.job;
			return;
		}

		// Only for a listing (a snapshot, `status`): dispatch never sorts.
		const sorted = [...this.#entries.values()].sort((left, right) => (comesFirst(left, right) ? -1 : 1));
		for (const entry of sorted) yield entry.job;
	}

	#unhold(entry: Entry): void {
		if (entry.job.notBefore === undefined) {
			this.#makeReady(entry);
		} else {
			// Ready once promoteDue sees its time has come: the state itself knows no clock.
			entry.state = 'delayed';
			this.#delayed.push(entry);
		}
	}

	#makeReady(entry: Entry): void {
		const needs = entry.job.needs ?? [];
		const key = needs.join(',');
		let group = this.#groups.get(key);
		if (!group) {
			group = new ReadyGroup(key, needs);
			this.#groups.set(key, group);
		}

		entry.state = 'ready';
		group.heap.push(entry);
		group.live++;
	}

	#leaveGroup(entry: Entry): void {
		const group = present(this.#groups.get((entry.job.needs ?? []).join(',')), 'ready group of a ready job');
		group.live--;
		if (group.live === 0) {
			this.#groups.delete(group.key);
		} else if (group.heap.size > (group.live * 2) + 64) {
			// Removed jobs deep in the heap would otherwise stay there until they reach the top.
			entry.state = 'gone';
			const rebuilt = new ReadyGroup(group.key, group.needs);
			for (const item of group.heap) if (item.state === 'ready') rebuilt.heap.push(item);
			rebuilt.live = group.live;
			this.#groups.set(group.key, rebuilt);
		}
	}
}
