import type {ExitStatus} from './job-process.js';

// A run's phases, as the run supervisor sees them, from the moment its
// record is on disk until its end is. (The saved JobRun has only what a
// restart needs: pid, cancelRequestedAt, cancelKillAt, timedOut.) A run with
// no phase is one the state has but no watcher yet: found at start-up or
// after the state was read back, it goes to `adopt`.
//
//   saved ──spawned──▶ spawned ──cancelling──▶ cancelling
//     │                   │                       │
//     │ not-started       │ starter-lost          │ starter-lost
//     │                   ▼                       ▼
//     └─starter-lost──▶ starter-lost ──adopted──▶ adopted ──cancelling──▶ cancelling (polled)
//
//   any phase (or none) ──ended──▶ ended-unsaved ──end-saved──▶ (gone)
//   none, saved or starter-lost ──abandoned──▶ (gone): it never ran, and went back to the queue
//   (saved: the job starter could not make its log, a fault of the scheduler's, not the job's)

export type RunPhase =
	/** On disk, and the job starter is spawning it: no pid yet. */
	| {readonly name: 'saved'}
	/** Our child: the job starter reports its end. */
	| {readonly name: 'spawned'}
	/** Not our child (an earlier scheduler's, or a dead starter's): polled. */
	| {readonly name: 'adopted'}
	/** SIGTERM sent (by us or an earlier scheduler), SIGKILL when the grace runs out; `child` as in spawned. */
	| {readonly name: 'cancelling'; readonly child: boolean}
	/** Its job starter died: it waits out a grace before it is looked for, as after a restart. */
	| {readonly name: 'starter-lost'}
	/** How it ended is known and applied to the state, not yet on disk: a failed save finishes it again from here. */
	| {readonly name: 'ended-unsaved'; readonly exit: ExitStatus};

export type RunPhaseName = RunPhase['name'];

/** The phases each transition may leave; `none` is a run with no phase yet. */
const transitions = {
	spawned: ['saved'],
	cancelling: ['spawned', 'adopted'],
	'starter-lost': ['saved', 'spawned', 'cancelling'],
	adopted: ['none', 'starter-lost'],
	ended: ['none', 'saved', 'spawned', 'adopted', 'cancelling', 'starter-lost', 'ended-unsaved'],
	'end-saved': ['ended-unsaved'],
	abandoned: ['none', 'saved', 'starter-lost'],
} as const satisfies Record<string, ReadonlyArray<RunPhaseName | 'none'>>;

export type RunTransition = keyof typeof transitions | 'saved';

export class IllegalRunTransition extends Error {}

/** The phase of every run the supervisor watches, changed only through the transitions below. */
export class RunLifecycle {
	readonly #phases = new Map<number, RunPhase>();

	phaseOf(runId: number): RunPhase | undefined {
		return this.#phases.get(runId);
	}

	/** Runs in one of these phases. */
	runsIn(...names: RunPhaseName[]): number[] {
		return [...this.#phases].filter(([, phase]) => names.includes(phase.name)).map(([runId]) => runId);
	}

	/** Its record is on disk; the job starter is asked to spawn it. */
	saved(runId: number): void {
		if (this.#phases.has(runId)) this.#refuse(runId, 'saved');
		this.#phases.set(runId, {name: 'saved'});
	}

	spawned(runId: number): void {
		this.#move(runId, 'spawned', {name: 'spawned'});
	}

	/** Returns whether it is our child. */
	cancelling(runId: number): boolean {
		const child = this.#leave(runId, 'cancelling')?.name === 'spawned';
		this.#phases.set(runId, {name: 'cancelling', child});
		return child;
	}

	starterLost(runId: number): void {
		const from = this.#leave(runId, 'starter-lost');
		if (from?.name === 'cancelling' && !from.child) this.#refuse(runId, 'starter-lost');
		this.#phases.set(runId, {name: 'starter-lost'});
	}

	adopted(runId: number): void {
		this.#move(runId, 'adopted', {name: 'adopted'});
	}

	ended(runId: number, exit: ExitStatus): void {
		this.#move(runId, 'ended', {name: 'ended-unsaved', exit});
	}

	/** Its end is on disk: nothing is left to watch. */
	endSaved(runId: number): void {
		this.#leave(runId, 'end-saved');
		this.#phases.delete(runId);
	}

	/** It never ran: it went back to the queue. */
	abandoned(runId: number): void {
		this.#leave(runId, 'abandoned');
		this.#phases.delete(runId);
	}

	/** Whether it is polled rather than reported by the job starter. */
	isPolled(runId: number): boolean {
		const phase = this.#phases.get(runId);
		return phase?.name === 'adopted' || (phase?.name === 'cancelling' && !phase.child);
	}

	#move(runId: number, transition: keyof typeof transitions, to: RunPhase): void {
		this.#leave(runId, transition);
		this.#phases.set(runId, to);
	}

	/** Asserts the phase a transition leaves, and returns it. */
	#leave(runId: number, transition: keyof typeof transitions): RunPhase | undefined {
		const phase = this.#phases.get(runId);
		const allowed: readonly string[] = transitions[transition];
		if (!allowed.includes(phase?.name ?? 'none')) this.#refuse(runId, transition);
		return phase;
	}

	#refuse(runId: number, transition: RunTransition): never {
		throw new IllegalRunTransition(`run ${runId}: no transition ${transition} from ${this.#phases.get(runId)?.name ?? 'no phase'}`);
	}
}
