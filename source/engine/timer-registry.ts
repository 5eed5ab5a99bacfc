// Every timer the engine sets, under a name: setting a name again replaces
// its timer, and `clearAll` (on stop) leaves none behind. None of them keeps
// the process alive.

export class TimerRegistry {
	readonly #timers = new Map<string, {timer: NodeJS.Timeout; at: number; repeat: boolean}>();

	/** Runs `callback` once at `at` (a Date.now() time), replacing the timer of that name. */
	at(name: string, at: number, callback: () => void): void {
		this.clear(name);
		const timer = setTimeout(() => {
			this.#timers.delete(name);
			callback();
		}, Math.max(0, at - Date.now()));
		timer.unref();
		this.#timers.set(name, {timer, at, repeat: false});
	}

	/** Runs `callback` every `ms` until the timer of that name is cleared. */
	every(name: string, ms: number, callback: () => void): void {
		this.clear(name);
		const timer = setInterval(callback, ms);
		timer.unref();
		this.#timers.set(name, {timer, at: Date.now() + ms, repeat: true});
	}

	has(name: string): boolean {
		return this.#timers.has(name);
	}

	/** When the timer of that name fires next, or undefined when there is none. */
	dueAt(name: string): number | undefined {
		return this.#timers.get(name)?.at;
	}

	clear(name: string): void {
		const entry = this.#timers.get(name);
		if (!entry) return;
		if (entry.repeat) clearInterval(entry.timer);
		else clearTimeout(entry.timer);
		this.#timers.delete(name);
	}

	clearAll(): void {
		for (const name of [...this.#timers.keys()]) this.clear(name);
	}

	get size(): number {
		return this.#timers.size;
	}
}
