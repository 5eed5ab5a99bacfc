// The workers that may take a job right now (takesJobs() and a free slot), so
// that dispatch finds the next one without scanning every worker per job: with
// 1,000 workers, a scan per dispatched job made dispatch O(workers). The first
// free worker in the order the workers were added wins, as the scan did: a
// min-heap of add ordinals, with entries of workers no longer free dropped
// lazily when they reach the top.

export class FreeWorkers {
	readonly #ordinals = new Map<string, number>();
	/** Ordinal → name, for the workers that are free. */
	readonly #free = new Map<number, string>();
	readonly #heap: number[] = [];
	#nextOrdinal = 0;

	/** The first free worker in add order. */
	first(): string | undefined {
		while (this.#heap.length > 0) {
			const name = this.#free.get(this.#heap[0]!);
			if (name !== undefined) return name;
			this.#pop();
		}

		return undefined;
	}

	/** Notes whether a worker (added if new, in add order) is free now. */
	set(name: string, free: boolean): void {
		let ordinal = this.#ordinals.get(name);
		if (ordinal === undefined) {
			ordinal = this.#nextOrdinal++;
			this.#ordinals.set(name, ordinal);
		}

		if (!free) {
			this.#free.delete(ordinal);
		} else if (!this.#free.has(ordinal)) {
			this.#free.set(ordinal, name);
			this.#push(ordinal);
		}
	}

	delete(name: string): void {
		const ordinal = this.#ordinals.get(name);
		if (ordinal === undefined) return;
		this.#ordinals.delete(name);
		this.#free.delete(ordinal);
	}

	#push(ordinal: number): void {
		const heap = this.#heap;
		let index = heap.push(ordinal) - 1;
		while (index > 0) {
			const parent = (index - 1) >> 1;
			if (heap[parent]! <= ordinal) break;
			heap[index] = heap[parent]!;
			index = parent;
		}

		heap[index] = ordinal;
	}

	#pop(): void {
		const heap = this.#heap;
		const last = heap.pop()!;
		if (heap.length === 0) return;
		let index = 0;
		for (;;) {
			let child = (index * 2) + 1;
			if (child >= heap.length) break;
			if (child + 1 < heap.length && heap[child + 1]! < heap[child]!) child++;
			if (heap[child]! >= last) break;
			heap[index] = heap[child]!;
			index = child;
		}

		heap[index] = last;
	}
}
