import {join} from 'node:path';
import type {JobRun} from '../core/model.js';
import type {SchedulerEvent} from '../core/scheduler.js';
import type {EventBus} from './event-bus.js';
import type {FaultRegister} from './fault-register.js';
import type {RunHistory} from './run-history.js';
import type {SchedulerState, StateChange} from './state/scheduler-state.js';
import type {Durability} from './state/durable-file.js';
import type {StateStore} from './state/state-store.js';
import type {TimerRegistry} from './timer-registry.js';
import type {HealthPolicy} from './worker-health.js';
import {UserError} from '../core/user-error.js';
import {errorMessage} from '../core/error-message.js';

// What the engine's parts share: the state and its store, the event bus, the
// history, and the few things one part asks of another.

export type EngineContext = {
	readonly store: StateStore;
	readonly state: SchedulerState;
	readonly logDir: string;
	readonly runsDir: string;
	/** Whether what is made is synced (`start --no-sync`: not), for runs/ when it is made again. */
	readonly durability: Durability;
	readonly health: HealthPolicy;
	readonly bus: EventBus;
	/** The scheduler's own faults that hold now (a log dir it cannot write, a state it cannot save). */
	readonly faults: FaultRegister;
	readonly history: RunHistory;
	/** Every timer of the engine: `stop` clears them all. */
	readonly timers: TimerRegistry;
	isStopping(): boolean;
	scheduleDispatch(): void;
	scheduleRecheck(): void;
	/** Cancels these jobs' runs (and takes these jobs out of the queue), as `cancel` does. */
	cancelJobs(ids: number[], graceMs?: number): Promise<void>;
	/** SIGTERM to a run whose cancel was requested, SIGKILL once its grace runs out. */
	terminate(run: JobRun): void;
};

export function refuseWhenStopping(context: EngineContext): void {
	if (context.isStopping()) throw new UserError('the scheduler is stopping');
}

/** Applies changes, tells the listeners, and resolves once the changes are on disk. */
export async function change(context: EngineContext, changes: StateChange[], events: SchedulerEvent[]): Promise<void> {
	if (changes.length === 0) return;
	const saved = context.store.apply(changes);
	context.bus.publishWhenSaved(saved, events);
	await saved;
}

/** Applies changes that no caller waits for, with the events that report them; a failure to save is reported as an event. */
export function commit(context: EngineContext, changes: StateChange[], events: SchedulerEvent[] = []): void {
	const saved = context.store.apply(changes);
	context.bus.publishWhenSaved(saved, events);
	saved.catch((error: unknown) => {
		context.bus.emit({type: 'error', message: errorMessage(error), at: Date.now()});
	});
}

export function exitFileOf(context: EngineContext, run: JobRun): string {
	return join(context.runsDir, `${run.runId}.exit`);
}
