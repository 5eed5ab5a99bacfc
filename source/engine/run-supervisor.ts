import {readdir, unlink} from 'node:fs/promises';
import {join} from 'node:path';
import type {FinishedRun, JobRun} from '../core/model.js';
import {runOutcome} from '../core/model.js';
import {defaultCancelGraceMs} from '../core/scheduler.js';
import {dependencyFailures} from './dependency-walk.js';
import type {Dispatcher} from './dispatcher.js';
import {afterSaveFailureMs} from './dispatcher.js';
import {commit, exitFileOf, type EngineContext} from './engine-context.js';
import {
	exitStatusOf,
	findJobProcess,
	isProcessAlive,
	readExitFile,
	signalJobGroup,
	type ExitStatus,
} from './job-process.js';
import {JobStarter, type WrapperExit} from './job-starter/job-starter.js';
import {nextAttempt} from './next-attempt.js';
import {recentRunsKept} from './run-history.js';
import type {StateChange} from './state/scheduler-state.js';
import {healthAfterRun, isUnreachableExit} from './worker-health.js';

// The runs: spawned through the job starter, watched until they end, cancelled,
// killed or timed out, and the runs a previous scheduler left adopted.

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

export class RunSupervisor {
	readonly #context: EngineContext;
	readonly #dispatcher: Dispatcher;
	/** Runs that an earlier scheduler started: not our children, so polled. */
	readonly #adopted = new Map<number, JobRun>();
	/** Runs whose process is our child, by runId: their exit is reported to us. */
	readonly #children = new Set<number>();
	/** How our children ended, until that is saved: the exit file may be missing it (a full disk). */
	readonly #childExits = new Map<number, ExitStatus>();
	#afterSaveFailure: NodeJS.Timeout | undefined;
	#adoptedPoll: NodeJS.Timeout | undefined;
	readonly #killTimers = new Map<number, NodeJS.Timeout>();
	readonly #timeoutTimers = new Map<number, NodeJS.Timeout>();
	/** Runs of a job starter that died, each waiting out lostStarterGraceMs before it is looked for. */
	readonly #lostStarterTimers = new Set<NodeJS.Timeout>();
	/** The helper process that spawns the jobs, off this event loop. */
	readonly #starter = new JobStarter(reason => {
		this.#context.bus.emit({type: 'error', message: `${reason}: the jobs it started are watched as after a restart, and a new one starts the next job`, at: Date.now()});
	});

	constructor(context: EngineContext, dispatcher: Dispatcher) {
		this.#context = context;
		this.#dispatcher = dispatcher;
	}

	warmUp(): void {
		this.#starter.warmUp();
	}

	/** Clears every timer; running jobs go on, and the next scheduler adopts them. */
	async stop(): Promise<void> {
		clearInterval(this.#adoptedPoll);
		clearTimeout(this.#afterSaveFailure);
		for (const timer of [...this.#killTimers.values(), ...this.#timeoutTimers.values(), ...this.#lostStarterTimers]) clearTimeout(timer);
		await Promise.all(this.#dispatcher.spawning);
		await this.#starter.close();
	}

	async spawn(run: JobRun): Promise<void> {
		const worker = this.#context.state.workers.get(run.worker);
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
			// Its log file could not be opened (the log dir was removed, the disk is full…).
			if (started.error !== undefined) this.#context.bus.emit({type: 'error', message: `job ${run.id} could not start: ${started.error}`, at: Date.now()});
			this.#finish(run, {exitCode: 127, signal: null});
			return;
		}

		commit(this.#context, [{type: 'run-spawned', runId: run.runId, pid: started.pid, pidStartTime: started.pidStartTime}]);
		this.#children.add(run.runId);
		void started.exited.then(wrapper => {
			this.#children.delete(run.runId);
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
		const timer = setTimeout(() => {
			this.#lostStarterTimers.delete(timer);
			const current = this.#context.state.running.get(run.runId);
			if (!current || this.#context.isStopping()) return;
			this.#adopt(current);
			// A run it never started went back to the queue: nothing else may come along to hand it out.
			this.#context.scheduleDispatch();
		}, lostStarterGraceMs);
		this.#lostStarterTimers.add(timer);
	}

	#finishFromExitFile(run: JobRun, wrapper: Exclude<WrapperExit, 'lost'>): void {
		if (!this.#context.state.running.has(run.runId) || this.#context.isStopping()) return;
		const status = readExitFile(exitFileOf(this.#context, run));
		let exit: ExitStatus;
		if (typeof status === 'object') {
			exit = status;
		} else if (wrapper.exitCode !== undefined && wrapper.signal === undefined) {
			// The wrapper could not write the file (a full disk) but passed the status on.
			exit = exitStatusOf(wrapper.exitCode);
		} else {
			// The wrapper itself was killed (SIGKILL after a cancel's grace, or by hand).
			exit = {exitCode: null, signal: wrapper.signal ?? null};
		}

		this.#childExits.set(run.runId, exit);
		this.#finish(run, exit);
	}

	#finish(run: JobRun, exit: ExitStatus): void {
		const {pidStartTime, cancelRequestedAt, cancelKillAt, timedOut, notBefore, ...fields} = run;
		const endedAt = Date.now();
		const outcome = runOutcome(exit.exitCode, exit.signal, {requested: cancelRequestedAt !== undefined, timedOut: timedOut === true});
		const unreachable = outcome === 'failed' && isUnreachableExit(exit.exitCode, this.#context.health);
		const next = nextAttempt(run, outcome, unreachable, this.#context.health, endedAt);
		const finished: FinishedRun = {
			...fields,
			endedAt,
			exitCode: exit.exitCode,
			signal: exit.signal,
			outcome,
			...(next && {requeued: next.reason}),
		};
		for (const timers of [this.#killTimers, this.#timeoutTimers]) {
			clearTimeout(timers.get(run.runId));
			timers.delete(run.runId);
		}

		this.#adopted.delete(run.runId);
		this.#context.history.recent.push(finished);
		if (this.#context.history.recent.length > recentRunsKept) this.#context.history.recent.splice(0, this.#context.history.recent.length - recentRunsKept);
		// The totals count jobs that are done for good, not attempts.
		if (outcome === 'succeeded') this.#context.history.totals.done++;
		else if (!next) this.#context.history.totals.failed++;

		// A job that failed for good takes down every job waiting for it, in the same change.
		const dependencyFailed = !next && outcome !== 'succeeded' ? dependencyFailures(this.#context.state, [run.id], endedAt) : [];
		const changes: StateChange[] = [{
			type: 'run-finished',
			run: finished,
			...(next && {requeue: next.job}),
			...(dependencyFailed.length > 0 && {dependencyFailed}),
		}];
		const workerBefore = this.#context.state.workers.get(run.worker);
		const health = workerBefore && healthAfterRun(workerBefore, unreachable, this.#context.health, endedAt);
		const wentOffline = health?.offline && !workerBefore?.offline;
		if (health) changes.push({type: 'worker-health', name: run.worker, ...health});
		const saved = this.#context.store.apply(changes);
		this.#context.bus.emit({type: 'job-finished', run: finished, at: endedAt});
		this.#context.history.recordDependencyFailures(dependencyFailed);
		if (next) this.#context.bus.emit({type: 'jobs-queued', jobs: [next.job], front: true, at: endedAt});
		const worker = this.#context.state.workers.get(run.worker);
		if (worker) this.#context.bus.emit({type: 'worker-updated', worker: {...worker}, at: endedAt});
		else this.#context.bus.emit({type: 'worker-removed', name: run.worker, at: endedAt});
		if (wentOffline && health.offline) {
			this.#context.bus.emit({type: 'worker-offline', name: run.worker, exitCode: exit.exitCode!, runs: health.unreachableStreak, nextCheckAt: health.offline.nextCheckAt, at: endedAt});
			this.#context.scheduleRecheck();
		}

		// The exit file goes only once the finish is on disk: until then it is what tells a restart how the job ended.
		saved.then(
			async () => {
				this.#childExits.delete(run.runId);
				await unlink(exitFileOf(this.#context, run)).catch(() => undefined);
			},
			(error: Error) => this.#context.bus.emit({type: 'error', message: error.message, at: Date.now()}),
		);
		this.#context.scheduleDispatch();
	}

	terminate(run: JobRun): void {
		const current = this.#context.state.running.get(run.runId);
		if (!current?.pid || current.cancelKillAt === undefined) return;
		signalJobGroup(current.pid, 'SIGTERM');
		this.#armKill(current);
	}

	#armKill(run: JobRun): void {
		if (this.#killTimers.has(run.runId) || run.cancelKillAt === undefined) return;
		const timer = setTimeout(() => {
			this.#killTimers.delete(run.runId);
			if (run.pid && this.#context.state.running.has(run.runId) && isProcessAlive(run.pid, run.pidStartTime)) {
				signalJobGroup(run.pid, 'SIGKILL');
			}
		}, Math.max(0, run.cancelKillAt - Date.now()));
		timer.unref();
		this.#killTimers.set(run.runId, timer);
	}

	#armTimeout(run: JobRun): void {
		if (run.timeoutMs === undefined || this.#timeoutTimers.has(run.runId)) return;
		const timer = setTimeout(() => {
			this.#timeoutTimers.delete(run.runId);
			this.#timeOut(run.runId);
		}, Math.max(0, run.startedAt + run.timeoutMs - Date.now()));
		timer.unref();
		this.#timeoutTimers.set(run.runId, timer);
	}

	#timeOut(runId: number): void {
		const run = this.#context.state.running.get(runId);
		if (!run || run.cancelRequestedAt !== undefined || this.#context.isStopping()) return;
		const at = Date.now();
		commit(this.#context, [{type: 'run-cancel-requested', runId, at, killAt: at + defaultCancelGraceMs, timedOut: true}]);
		this.#context.bus.emit({type: 'cancel-requested', runId, id: run.id, timedOut: true, at});
		this.terminate(run);
	}

	async adoptRunningJobs(): Promise<void> {
		// First, while the state is still exactly what is on disk: once #adopt has finished a run in
		// memory, its exit file must stay until that finish is saved (#finish removes it then), or a
		// crash in between would leave a run with no way to learn how it ended.
		await this.#removeStaleExitFiles();
		for (const run of [...this.#context.state.running.values()]) this.#adopt(run);
	}

	/** Watches a run whose process is not our child, or records how it ended. */
	#adopt(run: JobRun): void {
		const childExit = this.#childExits.get(run.runId);
		if (childExit) {
			// Our child, whose end could not be saved the first time.
			this.#finish(run, childExit);
			return;
		}

		const exitFile = exitFileOf(this.#context, run);
		const pid = run.pid ?? findJobProcess(exitFile);
		if (pid !== undefined && isProcessAlive(pid, run.pid === undefined ? undefined : run.pidStartTime)) {
			if (run.pid === undefined) commit(this.#context, [{type: 'run-spawned', runId: run.runId, pid, pidStartTime: undefined}]);
			this.#adopted.set(run.runId, run);
			this.#armTimeout(run);
			if (run.cancelKillAt !== undefined) this.#armKill(run);
			if (this.#adoptedPoll === undefined) {
				this.#adoptedPoll = setInterval(() => {
					this.#pollAdopted();
				}, adoptedPollMs);
				this.#adoptedPoll.unref();
			}

			return;
		}

		const status = readExitFile(exitFile);
		if (typeof status === 'object') {
			this.#finish(run, status);
		} else if (status === 'missing' && run.pid === undefined) {
			// The scheduler stopped between saving the run and spawning it: it never ran.
			commit(this.#context, [{type: 'run-abandoned', runId: run.runId}]);
		} else {
			this.#finish(run, {exitCode: null, signal: null});
		}
	}

	/** Exit files of runs already recorded (a crash came between the record and the clean-up). */
	async #removeStaleExitFiles(): Promise<void> {
		const files = await readdir(this.#context.runsDir).catch(() => []);
		await Promise.all(files
			.filter(file => file.endsWith('.exit') && !this.#context.state.running.has(Number(file.slice(0, -'.exit'.length))))
			.map(async file => unlink(join(this.#context.runsDir, file)).catch(() => undefined)));
	}

	#pollAdopted(): void {
		for (const run of this.#adopted.values()) {
			if (run.pid !== undefined && isProcessAlive(run.pid, run.pidStartTime)) continue;
			this.#adopted.delete(run.runId);
			const status = readExitFile(exitFileOf(this.#context, run));
			this.#finish(run, typeof status === 'object' ? status : {exitCode: null, signal: null});
		}

		if (this.#adopted.size === 0) {
			clearInterval(this.#adoptedPoll);
			this.#adoptedPoll = undefined;
		}
	}

	afterSaveFailed(error: Error): void {
		const at = Date.now();
		this.#dispatcher.saveFailedAt = at;
		// Finishes that were refused: those runs are running again as far as the state knows.
		// And jobs recorded `dependency-failed` that are back in the queue.
		const rolledBack = this.#context.history.recent.filter(run => this.#context.state.running.has(run.runId) || (run.outcome === 'dependency-failed' && this.#context.state.queue.has(run.id)));
		for (const run of rolledBack) this.#context.history.recent.splice(this.#context.history.recent.indexOf(run), 1);
		this.#context.bus.emit({type: 'error', message: error.message, at});
		this.#context.bus.emit({type: 'state-loaded', at});
		// Once the disk may have room again: runs that ended meanwhile are recorded, and jobs start again.
		clearTimeout(this.#afterSaveFailure);
		this.#afterSaveFailure = setTimeout(() => {
			for (const run of [...this.#context.state.running.values()]) {
				if (!this.#children.has(run.runId) && !this.#adopted.has(run.runId)) this.#adopt(run);
			}

			this.#context.scheduleDispatch();
		}, afterSaveFailureMs);
		this.#afterSaveFailure.unref();
	}
}
