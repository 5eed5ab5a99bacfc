import type {SchedulerFault} from '../core/scheduler.js';
import type {EventBus} from './event-bus.js';

// The faults on the scheduler's side that hold now (core/scheduler.ts's
// SchedulerFault): each kind at most once, announced when it begins or its
// message changes, and when it clears. They are not state: nothing of them is
// saved, and a restart finds them again by meeting them.

export class FaultRegister {
	readonly #faults = new Map<SchedulerFault['kind'], SchedulerFault>();
	readonly #bus: EventBus;

	constructor(bus: EventBus) {
		this.#bus = bus;
	}

	has(kind: SchedulerFault['kind']): boolean {
		return this.#faults.has(kind);
	}

	list(): SchedulerFault[] {
		return [...this.#faults.values()];
	}

	raise(kind: SchedulerFault['kind'], message: string, at = Date.now()): void {
		const current = this.#faults.get(kind);
		if (current?.message === message) return;
		const fault = {kind, message, since: current?.since ?? at};
		this.#faults.set(kind, fault);
		this.#bus.emit({type: 'fault', fault, at});
	}

	clear(kind: SchedulerFault['kind']): void {
		if (!this.#faults.delete(kind)) return;
		this.#bus.emit({type: 'fault-cleared', kind, at: Date.now()});
	}
}
