import {readdir, unlink} from 'node:fs/promises';
import {join} from 'node:path';
import {queuedJobOf, type JobRun} from '../core/model.js';
import {defaultCancelGraceMs} from '../core/scheduler.js';
import {afterSaveFailureMs, type Dispatcher} from './dispatcher.js';
import {commit, exitFileOf, type EngineContext} from './engine-context.js';
import {planFinish} from './finish-plan.js';
import {
	exitStatusOf,
	findJobProcess,
	isProcessAlive,
	readExitFile,
	removeUnforkedExitFile,
	signalJobGroup,
	type ExitStatus,
} from './job-process.js';
import {JobStarter, type WrapperExit} from './job-starter/job-starter.js';
import {RunFileDirs, runFileWords} from './run-file-dirs.js';
import {RunLifecycle} from './run-lifecycle.js';
import {errorMessage} from '../core/error-message.js';

// The runs: spawned through the job starter, watched until they end, cancelled,
// killed or timed out, and the runs a previous scheduler left adopted. Each
// run's phase is in `lifecycle`; its timers are in the engine's registry.

/** How often a job adopted from an earlier scheduler (not our child) is checked. */
const adoptedPollMs = 200;
/**
 * How long the runs of a job starter that died wait before they are looked
 * for. A wrapper forked just before the starter died may not have its name
 * yet (node's child is node until its exec; perl's names itself first thing,
 * once it gets a core): looked for at once, it would seem never to have
 * started, and its job would run a second time.
 */
const lostStarterGraceMs = 1000;
const adoptedPollTimer = 'adopted-poll';
const afterSaveFailureTimer = 'after-save-failure';
const killTimer = (runId: number) => `kill:${runId}`;
const timeoutTimer = (runId: number) => `timeout:${runId}`;
const lostStarterTimer = (runId: number) => `starter-lost:${runId}`;
const unknownEnd: ExitStatus = {exitCode: null, signal: null};

export class RunSupervisor {
	readonly lifecycle = new RunLifecycle();
	readonly #context: EngineContext;
	readonly #dispatcher: Dispatcher;
	/** The helper process that spawns the jobs, off this event loop. */
	readonly #starter: JobStarter;

	readonly #runFileDirs: RunFileDirs;

	constructor(context: EngineContext, dispatcher: Dispatcher) {
		this.#context = context;
		this.#dispatcher = dispatcher;
		this.#runFileDirs = new RunFileDirs(context);
		this.#starter = new JobStarter(reason => {
			this.#context.bus.emit({type: 'error', message: `${reason}: the jobs it started are watched as after a restart, and a new one starts the next job`, at: Date.now()});
		}, {sync: context.durability.sync});
	}

	warmUp(): void {
		this.#starter.warmUp();
	}

	/** Once the timers are cleared: running jobs go on, and the next scheduler adopts them. */
	async stop(): Promise<void> {
		await Promise.all(this.#dispatcher.spawning);
		await this.#starter.close();
	}

	async spawn(run: JobRun): Promise<void> {
		this.lifecycle.saved(run.runId);
		const worker = this.#context.state.workers.get(run.worker);
		const runFileEpochs = this.#runFileDirs.epochs();
		const started = await this.#starter.start({
			script: run.script,
			args: run.args,
			cwd: run.cwd,
			env: {
				...worker?.env,
				...run.env,
				JOB_ID: String(run.runId),
				SLAVE_IP: run.worker,
				WORKER: run.worker,
			},
			logFile: run.logFile,
			exitFile: exitFileOf(this.#context, run),
		});
		if (started.type === 'lost') {
			this.#adoptLost(run);
			return;
		}

		if (started.type === 'not-started') {
			if (started.fault === undefined) {
				// Its cwd is gone, or the wrapper could not be forked: the job's own trouble, said in its log.
				this.#finish(run, {exitCode: 127, signal: null});
				return;
			}

			// Its log or exit file could not be made (its dir was removed, the disk is full, out of inodes…):
			// the scheduler's fault. The job never ran: back to the queue, first, no retry used.
			this.#abandon(run, `its ${runFileWords[started.fault.file]} could not be made: ${started.fault.error}`);
			await this.#runFileDirs.fileFailed(started.fault, runFileEpochs);
			this.#context.scheduleDispatch();
			return;
		}

		commit(this.#context, [{type: 'run-spawned', runId: run.runId, pid: started.pid, pidStartTime: started.pidStartTime}]);
		// Something stood where its log or exit file goes: moved aside, never written through.
		if (started.note !== undefined) this.#context.bus.emit({type: 'error', message: `job ${run.id} (run ${run.runId}): ${started.note}`, at: Date.now()});
		this.lifecycle.spawned(run.runId);
		void started.exited.then(wrapper => {
			if (wrapper === 'lost') this.#adoptLost(run);
			else this.#finishFromExitFile(run, wrapper);
		});
		this.#armTimeout(run);
		// A cancel that came while the starter was at work had no pid to signal.
		const current = this.#context.state.running.get(run.runId);
		if (current?.cancelRequestedAt !== undefined) this.terminate(current);
	}

	/** The job starter died: its jobs, and any it may have started unannounced, are watched like a previous scheduler's. */
	#adoptLost(run: JobRun): void {
		const phase = this.lifecycle.phaseOf(run.runId)?.name;
		// Ended meanwhile (a cancel's SIGKILL, a timeout): nothing is left to look for.
		if (phase === 'ended-unsaved' || phase === undefined) return;
		// Still 'saved': the starter died before it answered for this run.
		const answered = phase !== 'saved';
		this.lifecycle.starterLost(run.runId);
		this.#context.timers.at(lostStarterTimer(run.runId), Date.now() + lostStarterGraceMs, () => {
			const current = this.#context.state.running.get(run.runId);
			if (!current || this.#context.isStopping()) return;
			// It died between making the run's exit file and forking its wrapper: the job never ran.
			if (!answered && current.pid === undefined && removeUnforkedExitFile(exitFileOf(this.#context, current))) this.#abandon(current, 'its job starter died before it started it');
			else this.#adopt(current);
			// A run it never started went back to the queue: nothing else may come along to hand it out.
			this.#context.scheduleDispatch();
		});
	}

	#finishFromExitFile(run: JobRun, wrapper: Exclude<WrapperExit, 'lost'>): void {
		if (!this.#context.state.running.has(run.runId) || this.#context.isStopping()) return;
		const status = readExitFile(exitFileOf(this.#context, run));
		let exit: ExitStatus;
		if (typeof status === 'object' && status.damaged === undefined) {
			// Its end is now, to the millisecond; the file's end time (whole seconds from a perl without Time::HiRes) serves runs that ended unwatched.
			exit = {exitCode: status.exitCode, signal: status.signal};
		} else if (wrapper.exitCode !== undefined && wrapper.signal === undefined) {
			// The wrapper could not write the file (a full disk), or the file was damaged since, but passed the status on.
			if (typeof status === 'object') this.#context.bus.emit({type: 'error', message: `job ${run.id} (run ${run.runId}): ${status.damaged}; its status is the one its wrapper exited with`, at: Date.now()});
			exit = exitStatusOf(wrapper.exitCode);
		} else {
			// The wrapper itself was killed (SIGKILL after a cancel's grace, or by hand).
			exit = {exitCode: null, signal: wrapper.signal ?? null};
		}

		this.#finish(run, exit);
	}

	#finish(run: JobRun, exit: ExitStatus): void {
		const context = this.#context;
		// When the wrapper wrote it, which for a run that ended while no scheduler ran is long before now.
		const endedAt = exit.endedAt === undefined ? Date.now() : Math.max(run.startedAt, exit.endedAt);
		if (exit.damaged !== undefined) context.bus.emit({type: 'error', message: `job ${run.id} (run ${run.runId}) is recorded as lost: ${exit.damaged}`, at: Date.now()});
		const plan = planFinish(context.state, context.health, run, exit, endedAt);
		this.lifecycle.ended(run.runId, exit);
		for (const name of [killTimer(run.runId), timeoutTimer(run.runId), lostStarterTimer(run.runId)]) context.timers.clear(name);
		context.history.record(plan.recorded, plan.totals);
		const saved = context.store.apply(plan.changes);
		const worker = context.state.workers.get(run.worker);
		context.bus.publishWhenSaved(saved, [
			...plan.events,
			worker ? {type: 'worker-updated', worker, at: endedAt} : {type: 'worker-removed', name: run.worker, at: endedAt},
			...plan.eventsAfterWorker,
		]);
		if (plan.eventsAfterWorker.length > 0) context.scheduleRecheck();
		// The exit file goes only once the finish is on disk: until then it is what tells a restart how the job ended.
		const ended = this.lifecycle.phaseOf(run.runId);
		saved.then(
			async () => {
				if (this.lifecycle.phaseOf(run.runId) === ended) this.lifecycle.endSaved(run.runId);
				await unlink(exitFileOf(context, run)).catch(() => undefined);
			},
			(error: unknown) => context.bus.emit({type: 'error', message: errorMessage(error), at: Date.now()}),
		);
		context.scheduleDispatch();
	}

	// Cancellation: SIGTERM to the job's process group, SIGKILL when the grace runs out.

	terminate(run: JobRun): void {
		const current = this.#context.state.running.get(run.runId);
		if (!current?.pid || current.cancelKillAt === undefined) return;
		const phase = this.lifecycle.phaseOf(run.runId)?.name;
		if (phase === 'ended-unsaved') return;
		signalJobGroup(current.pid, 'SIGTERM');
		// Otherwise it is cancelling already, or it will be once it is adopted (it has `cancelKillAt`).
		if (phase === 'spawned' || phase === 'adopted') this.lifecycle.cancelling(run.runId);
		this.#armKill(current);
	}

	#armKill(run: JobRun): void {
		if (this.#context.timers.has(killTimer(run.runId)) || run.cancelKillAt === undefined) return;
		this.#context.timers.at(killTimer(run.runId), run.cancelKillAt, () => {
			if (run.pid && this.#context.state.running.has(run.runId) && isProcessAlive(run.pid, run.pidStartTime)) {
				signalJobGroup(run.pid, 'SIGKILL');
			}
		});
	}

	// Timeouts: a run past its job's time limit is cancelled as `cancel` does it, and recorded as timed out.

	#armTimeout(run: JobRun): void {
		if (run.timeoutMs === undefined || this.#context.timers.has(timeoutTimer(run.runId))) return;
		this.#context.timers.at(timeoutTimer(run.runId), run.startedAt + run.timeoutMs, () => {
			this.#timeOut(run.runId);
		});
	}

	#timeOut(runId: number): void {
		const run = this.#context.state.running.get(runId);
		if (!run || run.cancelRequestedAt !== undefined || this.#context.isStopping()) return;
		const at = Date.now();
		commit(this.#context, [{type: 'run-cancel-requested', runId, at, killAt: at + defaultCancelGraceMs, timedOut: true}], [{type: 'cancel-requested', runId, id: run.id, timedOut: true, at}]);
		this.terminate(run);
	}

	// Adoption: runs a previous scheduler started are finished, watched, or put back in the queue.

	async adoptRunningJobs(): Promise<void> {
		// First, while the state is still exactly what is on disk: once #adopt has finished a run in
		// memory, its exit file must stay until that finish is saved (#finish removes it then), or a
		// crash in between would leave a run with no way to learn how it ended.
		await this.#removeStaleExitFiles();
		for (const run of [...this.#context.state.running.values()]) this.#adopt(run);
	}

	/** Watches a run whose process is not our child, or records how it ended. */
	#adopt(run: JobRun): void {
		const phase = this.lifecycle.phaseOf(run.runId);
		if (phase?.name === 'ended-unsaved') {
			// Its end could not be saved the first time: the exit file may be missing it (a full disk).
			this.#finish(run, phase.exit);
			return;
		}

		const exitFile = exitFileOf(this.#context, run);
		const pid = run.pid ?? findJobProcess(exitFile);
		if (pid !== undefined && isProcessAlive(pid, run.pid === undefined ? undefined : run.pidStartTime)) {
			if (run.pid === undefined) commit(this.#context, [{type: 'run-spawned', runId: run.runId, pid, pidStartTime: undefined}]);
			this.lifecycle.adopted(run.runId);
			this.#armTimeout(run);
			if (run.cancelKillAt !== undefined) {
				this.lifecycle.cancelling(run.runId);
				this.#armKill(run);
			}

			if (!this.#context.timers.has(adoptedPollTimer)) {
				this.#context.timers.every(adoptedPollTimer, adoptedPollMs, () => {
					this.#pollAdopted();
				});
			}

			return;
		}

		const status = readExitFile(exitFile);
		if (typeof status === 'object') {
			this.#finish(run, status);
		} else if (status === 'missing' && run.pid === undefined) {
			// The scheduler stopped between saving the run and spawning it: it never ran.
			this.#abandon(run, 'it was saved but never spawned');
		} else {
			this.#finish(run, unknownEnd);
		}
	}

	/** A run that never ran goes back to the queue, first, as the job it was, with no retry used. */
	#abandon(run: JobRun, reason: string): void {
		this.lifecycle.abandoned(run.runId);
		const at = Date.now();
		commit(this.#context, [{type: 'run-abandoned', runId: run.runId}], [
			{type: 'run-abandoned', run, reason, at},
			{type: 'jobs-queued', jobs: [queuedJobOf(run)], front: true, at},
		]);
	}

	/** Exit files of runs already recorded (a crash came between the record and the clean-up). */
	async #removeStaleExitFiles(): Promise<void> {
		const {runsDir} = this.#context;
		const files = await readdir(runsDir).catch(() => []);
		await Promise.all(files
			.filter(file => file.endsWith('.exit') && !this.#context.state.running.has(Number(file.slice(0, -'.exit'.length))))
			.map(async file => unlink(join(runsDir, file)).catch(() => undefined)));
	}

	#pollAdopted(): void {
		const polled = this.lifecycle.runsIn('adopted', 'cancelling').filter(runId => this.lifecycle.isPolled(runId));
		for (const runId of polled) {
			const run = this.#context.state.running.get(runId);
			if (!run) continue;
			if (run.pid !== undefined && isProcessAlive(run.pid, run.pidStartTime)) continue;
			const status = readExitFile(exitFileOf(this.#context, run));
			this.#finish(run, typeof status === 'object' ? status : unknownEnd);
		}

		if (!this.lifecycle.runsIn('adopted', 'cancelling').some(runId => this.lifecycle.isPolled(runId))) this.#context.timers.clear(adoptedPollTimer);
	}

	// A failed save: the store has read the state back from disk; what was refused must not show.

	afterSaveFailed(error: Error): void {
		const at = Date.now();
		const {state, history} = this.#context;
		this.#dispatcher.saveFailedAt = at;
		// Until a save succeeds again (the event bus sees each one).
		this.#context.faults.raise('save', error.message, at);
		// Finishes that were refused: those runs are running again as far as the state knows.
		// And jobs recorded `dependency-failed` that are back in the queue.
		history.forget(run => state.running.has(run.runId) || (run.outcome === 'dependency-failed' && state.queue.has(run.id)));
		this.#context.bus.emit({type: 'error', message: error.message, at});
		this.#context.bus.emit({type: 'state-loaded', at});
		// Once the disk may have room again: runs that ended meanwhile are recorded, and jobs start again.
		this.#context.timers.at(afterSaveFailureTimer, at + afterSaveFailureMs, () => {
			for (const run of [...this.#context.state.running.values()]) {
				const phase = this.lifecycle.phaseOf(run.runId)?.name;
				if (phase === undefined || phase === 'ended-unsaved') this.#adopt(run);
			}

			this.#context.scheduleDispatch();
		});
	}
}
