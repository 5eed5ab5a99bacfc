import type {Worker} from '../core/model.js';
import type {SchedulerEvent} from '../core/scheduler.js';
import type {EngineContext} from './engine-context.js';
import {probeWorker} from './ssh-probe.js';
import {healthAfterRecheck, healthOnProbation, type WorkerHealth} from './worker-health.js';
import {present} from '../core/present.js';
import {errorMessage} from '../core/error-message.js';

// Offline workers: re-checked now and then, and given jobs again once they answer.

/** One timer for the next offline worker due a re-check. */
const recheckTimer = 'worker-recheck';

export class HealthMonitor {
	readonly #context: EngineContext;
	readonly #rechecking = new Set<string>();

	constructor(context: EngineContext) {
		this.#context = context;
	}

	scheduleRecheck(): void {
		this.#context.timers.clear(recheckTimer);
		let next = Number.POSITIVE_INFINITY;
		for (const worker of this.#context.state.workers.values()) {
			if (worker.offline && !this.#rechecking.has(worker.name)) next = Math.min(next, worker.offline.nextCheckAt);
		}

		if (next === Number.POSITIVE_INFINITY || this.#context.isStopping()) return;
		this.#context.timers.at(recheckTimer, next, () => {
			this.#recheckDue();
		});
	}

	#recheckDue(): void {
		const now = Date.now();
		for (const worker of this.#context.state.workers.values()) {
			if (!worker.offline || worker.offline.nextCheckAt > now || this.#rechecking.has(worker.name)) continue;
			if (worker.sshChecked) void this.#recheck(worker);
			else this.#setHealth(worker, healthOnProbation(worker, this.#context.health), {type: 'worker-online', name: worker.name, how: 'probation', at: now});
		}

		this.scheduleRecheck();
	}

	async #recheck(worker: Worker): Promise<void> {
		this.#rechecking.add(worker.name);
		let failure: string | undefined;
		try {
			await probeWorker(worker.name, worker.env);
		} catch (error) {
			failure = (error as Error).message;
		} finally {
			this.#rechecking.delete(worker.name);
		}

		const current = this.#context.state.workers.get(worker.name);
		// Removed, or enabled by hand, while ssh was answering.
		if (this.#context.isStopping() || !current?.offline) return;
		const at = Date.now();
		const health = healthAfterRecheck(current, failure === undefined, this.#context.health, at);
		this.#setHealth(current, health, failure === undefined
			? {type: 'worker-online', name: current.name, how: 'answered', at}
			: {type: 'worker-recheck-failed', name: current.name, message: failure, nextCheckAt: present(health.offline, `the offline state of worker ${current.name}`).nextCheckAt, at});
		this.scheduleRecheck();
	}

	#setHealth(worker: Worker, health: WorkerHealth, event: SchedulerEvent): void {
		const saved = this.#context.store.apply([{type: 'worker-health', name: worker.name, ...health}]);
		this.#context.bus.publishWhenSaved(saved, [{type: 'worker-updated', worker, at: event.at}, event]);
		saved.catch((error: unknown) => {
			this.#context.bus.emit({type: 'error', message: errorMessage(error), at: Date.now()});
		});
		if (!health.offline) this.#context.scheduleDispatch();
	}
}
