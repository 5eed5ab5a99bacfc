import {present} from '../../core/present.js';

// Which queued jobs wait for which others (`add-job --after`). Only the
// awaited jobs that are not done yet count: a job queued or running. When
// one succeeds for good, the jobs that waited only for it are released;
// when one fails for good (or leaves the queue), the engine records every
// job downstream of it as `dependency-failed` in the same state change.

export class Dependencies {
	/** Awaited job → the queued jobs waiting for it. */
	readonly #dependents = new Map<number, Set<number>>();
	/** Queued job → the jobs it still waits for. */
	readonly #waitingFor = new Map<number, Set<number>>();

	/** Notes that `id` waits for `pending` (the awaited jobs not done yet). */
	add(id: number, pending: readonly number[]): void {
		this.forget(id);
		if (pending.length === 0) return;
		this.#waitingFor.set(id, new Set(pending));
		for (const awaited of pending) {
			let dependents = this.#dependents.get(awaited);
			if (!dependents) {
				dependents = new Set();
				this.#dependents.set(awaited, dependents);
			}

			dependents.add(id);
		}
	}

	/** The jobs still waiting for `id`. */
	dependentsOf(id: number): ReadonlySet<number> {
		return this.#dependents.get(id) ?? new Set();
	}

	waitingFor(id: number): ReadonlySet<number> {
		return this.#waitingFor.get(id) ?? new Set();
	}

	/** `id` succeeded for good: returns the jobs that now wait for nothing. */
	succeeded(id: number): number[] {
		const released: number[] = [];
		for (const dependent of this.dependentsOf(id)) {
			const waiting = present(this.#waitingFor.get(dependent), `the jobs job ${dependent} waits for`);
			waiting.delete(id);
			if (waiting.size === 0) {
				this.#waitingFor.delete(dependent);
				released.push(dependent);
			}
		}

		this.#dependents.delete(id);
		return released;
	}

	/** `id` left the queue for good: it waits for nothing any more. */
	forget(id: number): void {
		const waiting = this.#waitingFor.get(id);
		if (!waiting) return;
		this.#waitingFor.delete(id);
		for (const awaited of waiting) {
			const dependents = this.#dependents.get(awaited);
			dependents?.delete(id);
			if (dependents?.size === 0) this.#dependents.delete(awaited);
		}
	}
}
