import {Heap} from './heap.js';

// The workers that may take a job right now (takesJobs() and a free slot), so
// that dispatch finds the next one without scanning every worker per job: with
// 1,000 workers, a scan per dispatched job made dispatch O(workers). Workers
// are grouped by their set of tags (a fleet has few distinct sets), so that a
// job that needs tags looks only at the groups that have them. Within a group
// the first free worker in the order the workers were added wins, as the scan
// did: a min-heap of add ordinals, with entries of workers no longer free
// dropped lazily when they reach the top.

/** The free workers that have one same set of tags. */
export class WorkerClass {
	readonly key: string;
	readonly tags: ReadonlySet<string>;
	/** Ordinal → name, for the workers of this class that are free. */
	readonly free = new Map<number, string>();
	readonly heap = new Heap<number>((left, right) => left < right);

	constructor(key: string, tags: readonly string[]) {
		this.key = key;
		this.tags = new Set(tags);
	}

	/** The first free worker in add order, with its ordinal. */
	first(): {name: string; ordinal: number} | undefined {
		for (let ordinal = this.heap.peek(); ordinal !== undefined; ordinal = this.heap.peek()) {
			const name = this.free.get(ordinal);
			if (name !== undefined) return {name, ordinal};
			this.heap.pop();
		}

		return undefined;
	}
}

export const tagsKey = (tags: readonly string[] | undefined): string => (tags ?? []).join(',');

export class FreeWorkers {
	readonly #workers = new Map<string, {ordinal: number; class: WorkerClass}>();
	readonly #classes = new Map<string, WorkerClass>();
	#nextOrdinal = 0;

	/** The classes that have a free worker now, or had one lately. */
	classes(): IterableIterator<WorkerClass> {
		return this.#classes.values();
	}

	/** The first free worker in add order, whatever its tags. */
	first(): string | undefined {
		let first: {name: string; ordinal: number} | undefined;
		for (const workerClass of this.#classes.values()) {
			const candidate = workerClass.first();
			if (candidate && (!first || candidate.ordinal < first.ordinal)) first = candidate;
		}

		return first?.name;
	}

	/** Notes whether a worker (added if new, in add order) is free now, and which tags it has. */
	set(name: string, free: boolean, tags: readonly string[] | undefined): void {
		const key = tagsKey(tags);
		let worker = this.#workers.get(name);
		if (worker === undefined) {
			worker = {ordinal: this.#nextOrdinal++, class: this.#classOf(key, tags ?? [])};
			this.#workers.set(name, worker);
		} else if (worker.class.key !== key) {
			worker.class.free.delete(worker.ordinal);
			worker.class = this.#classOf(key, tags ?? []);
		}

		const {free: freeInClass, heap} = worker.class;
		if (!free) {
			freeInClass.delete(worker.ordinal);
		} else if (!freeInClass.has(worker.ordinal)) {
			freeInClass.set(worker.ordinal, name);
			heap.push(worker.ordinal);
		}
	}

	delete(name: string): void {
		const worker = this.#workers.get(name);
		if (worker === undefined) return;
		this.#workers.delete(name);
		worker.class.free.delete(worker.ordinal);
	}

	#classOf(key: string, tags: readonly string[]): WorkerClass {
		let workerClass = this.#classes.get(key);
		if (!workerClass) {
			workerClass = new WorkerClass(key, tags);
			this.#classes.set(key, workerClass);
		}

		return workerClass;
	}
}
