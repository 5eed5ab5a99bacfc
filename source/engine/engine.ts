import {constants} from 'node:fs';
import {access, chmod, mkdir, readdir, stat, unlink} from 'node:fs/promises';
import {isAbsolute, join, resolve} from 'node:path';
import type {FinishedRun, JobRun, QueuedJob, Worker} from '../core/model.js';
import {queuedJobOf, runOutcome} from '../core/model.js';
import {
	defaultCancelGraceMs,
	type AddWorkersRequest,
	type JobSelector,
	type NewJob,
	type NewWorker,
	type QueuePage,
	type QueuePageRequest,
	type RemoveWorkerMode,
	type Scheduler,
	type SchedulerEvent,
	type SchedulerEventListener,
	type SchedulerSnapshot,
	type SnapshotOptions,
	type SubscribeOptions,
} from '../core/scheduler.js';
import {jobMatches, normalizedFilter} from '../core/queue-filter.js';
import {waitReasons} from '../core/wait-reason.js';
import {UserError} from '../core/user-error.js';
import {checkCleanRequest, type CleanResult, type RetentionChange} from '../core/retention.js';
import {
	checkArgs,
	checkDurationMs,
	checkEnv,
	checkJobIds,
	checkPriority,
	checkRetries,
	checkSlots,
	checkTags,
	checkWorkerName,
	describeString,
} from '../core/validation.js';
import {lockDataDir, type DataDirLock} from './data-dir-lock.js';
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
import {withQueueCounts} from './queue-counts.js';
import {Retention} from './retention.js';
import {probeWorker} from './ssh-probe.js';
import {readHistoryFrom, readHistoryTail} from './state/history-file.js';
import {nextMatch} from './state/next-match.js';
import type {SchedulerState, StateChange} from './state/scheduler-state.js';
import {makeDirectory} from './state/durable-file.js';
import {StateStore} from './state/state-store.js';
import {parseStatus} from './status-import.js';
import {
	defaultHealthPolicy,
	healthAfterRecheck,
	healthAfterRun,
	healthOnProbation,
	isUnreachableExit,
	type HealthPolicy,
	type WorkerHealth,
} from './worker-health.js';

// The scheduler itself: it owns the state, hands queued jobs to free worker
// slots, runs them, watches them end, and adopts the jobs a previous
// scheduler left running. It knows nothing of terminals: the headless server
// and the UI both drive it through the Scheduler interface.

export type EngineOptions = {
	dataDir: string;
	logDir: string;
	/** When a worker counts as unreachable and how it is re-checked. */
	health?: Partial<HealthPolicy>;
	/** false: the state is never fsync'd (`start --no-sync`, for throwaway data dirs). */
	sync?: boolean;
	/** From `start --keep-finished`/`--keep-for`: replaces the policy saved in the state. Absent: the saved one stays. */
	retention?: RetentionChange;
};

/** How many finished runs the engine keeps in memory for the UI and `status`. */
const recentRunsKept = 1000;
/** How often a job adopted from an earlier scheduler (not our child) is checked. */
const adoptedPollMs = 200;
/** After a failed save (a full disk), no job starts for this long, and then the runs are looked at again. */
const afterSaveFailureMs = 1000;
/**
 * How long the runs of a job starter that died wait before they are looked
 * for. A wrapper forked just before the starter died may not have its name
 * yet (node's child is node until its exec; perl's names itself first thing,
 * once it gets a core): looked for at once, it would seem never to have
 * started, and its job would run a second time.
 */
const lostStarterGraceMs = 1000;

export class Engine implements Scheduler {
	readonly dataDir: string;
	readonly logDir: string;
	readonly #store: StateStore;
	readonly #lock: DataDirLock;
	readonly #runsDir: string;
	readonly #listeners = new Set<SchedulerEventListener>();
	#pendingEvents: SchedulerEvent[] = [];
	readonly #recent: FinishedRun[];
	readonly #totals = {done: 0, failed: 0};
	/** Runs that an earlier scheduler started: not our children, so polled. */
	readonly #adopted = new Map<number, JobRun>();
	/** Runs whose process is our child, by runId: their exit is reported to us. */
	readonly #children = new Set<number>();
	/** How our children ended, until that is saved: the exit file may be missing it (a full disk). */
	readonly #childExits = new Map<number, ExitStatus>();
	#saveFailedAt = 0;
	#afterSaveFailure: NodeJS.Timeout | undefined;
	#adoptedPoll: NodeJS.Timeout | undefined;
	readonly #killTimers = new Map<number, NodeJS.Timeout>();
	readonly #timeoutTimers = new Map<number, NodeJS.Timeout>();
	/** Runs of a job starter that died, each waiting out lostStarterGraceMs before it is looked for. */
	readonly #lostStarterTimers = new Set<NodeJS.Timeout>();
	readonly #health: HealthPolicy;
	readonly #retention: Retention;
	/** One timer for the next offline worker due a re-check. */
	#recheckTimer: NodeJS.Timeout | undefined;
	readonly #rechecking = new Set<string>();
	/** One timer for the next retry whose delay runs out. */
	#wakeTimer: {at: number; timer: NodeJS.Timeout} | undefined;
	#dispatchScheduled = false;
	/** Spawns under way; `stop` waits for them so that no run is left half started. */
	readonly #spawning = new Set<Promise<void>>();
	/** The helper process that spawns the jobs, off this event loop. */
	readonly #starter = new JobStarter(reason => {
		this.#emit({type: 'error', message: `${reason}: the jobs it started are watched as after a restart, and a new one starts the next job`, at: Date.now()});
	});

	#stopping = false;
	#resolveStopped!: () => void;
	/** Resolves once the scheduler has stopped, whoever asked it to. */
	readonly stopped = new Promise<void>(resolve => {
		this.#resolveStopped = resolve;
	});

	static async start(options: EngineOptions): Promise<Engine> {
		const dataDir = resolve(options.dataDir);
		const logDir = resolve(options.logDir);
		const durability = {sync: options.sync ?? true};
		// A data dir made here must survive a power cut, its name in its parent included.
		await makeDirectory(dataDir, 0o700, durability);
		// Whoever can reach the control socket can run programs as this user.
		await chmod(dataDir, 0o700);
		await mkdir(logDir, {recursive: true, mode: 0o700});
		// runs/ too: the exit files go there.
		await makeDirectory(join(dataDir, 'runs'), 0o700, durability);
		const lock = await lockDataDir(dataDir);
		try {
			const store = await StateStore.open(dataDir, {sync: options.sync});
			const recent = await readHistoryTail(store.files.history, recentRunsKept);
			const engine = new Engine(dataDir, logDir, store, lock, recent, {...defaultHealthPolicy, ...options.health});
			await engine.#retention.start(options.retention);
			await engine.#adoptRunningJobs();
			engine.#starter.warmUp();
			engine.#scheduleRecheck();
			engine.#scheduleDispatch();
			return engine;
		} catch (error) {
			await lock.release();
			throw error;
		}
	}

	private constructor(dataDir: string, logDir: string, store: StateStore, lock: DataDirLock, recent: FinishedRun[], health: HealthPolicy) {
		this.dataDir = dataDir;
		this.#health = health;
		this.logDir = logDir;
		this.#store = store;
		this.#lock = lock;
		this.#runsDir = join(dataDir, 'runs');
		this.#recent = recent;
		store.onReload(error => {
			this.#afterSaveFailed(error);
		});
		this.#retention = new Retention(store, removed => {
			// In place: the runs kept in memory are the history's newest, and must not outlive it.
			const kept = this.#recent.filter(run => !removed.has(run.runId));
			this.#recent.splice(0, this.#recent.length, ...kept);
		}, message => {
			this.#emit({type: 'error', message, at: Date.now()});
		});
	}

	get #state(): SchedulerState {
		return this.#store.state;
	}

	async snapshot(options: SnapshotOptions = {}): Promise<SchedulerSnapshot> {
		return {
			dataDir: this.dataDir,
			logDir: this.logDir,
			running: !this.#stopping,
			paused: this.#state.paused,
			workers: [...this.#state.workers.values()],
			queue: options.queue === false ? [] : [...this.#state.queue.values()],
			queueLength: this.#state.queue.size,
			runningJobs: [...this.#state.running.values()],
			finished: [...this.#recent],
			totals: {...this.#totals},
			retention: this.#retention.status(),
		};
	}

	/** Jobs running on a worker right now. */
	busySlots(name: string): number {
		return this.#state.busySlots.get(name) ?? 0;
	}

	subscribe(listener: SchedulerEventListener, options: SubscribeOptions = {}): () => void {
		const subscriber = options.queue === 'counts' ? withQueueCounts(listener, () => this.#state.queue.size) : listener;
		this.#listeners.add(subscriber);
		return () => this.#listeners.delete(subscriber);
	}

	async queuePage({offset, limit, filter}: QueuePageRequest): Promise<QueuePage> {
		const {queue, workers, runningJobIds, paused} = this.#state;
		const needle = normalizedFilter(filter);
		let jobs: QueuedJob[] = [];
		let total = queue.size;
		if (needle === '') {
			jobs = queue.first(offset + limit).slice(offset);
		} else {
			total = 0;
			for (const job of queue.values()) {
				if (!jobMatches(job, needle)) continue;
				if (total >= offset && jobs.length < limit) jobs.push(job);
				total++;
			}
		}

		const reasonOf = waitReasons({paused, workers: workers.values(), unfinished: id => queue.has(id) || runningJobIds.has(id)}, Date.now());
		return {offset, jobs: jobs.map(job => ({...job, waiting: reasonOf(job)})), total};
	}

	async addWorkers(request: AddWorkersRequest): Promise<Worker[]> {
		this.#refuseWhenStopping();
		const now = Date.now();
		const workers = request.workers.map(entry => ({...checkNewWorker(entry, now), sshChecked: !request.skipSshCheck}));
		if (workers.length === 0) throw new UserError('no worker name given');
		this.#refuseDuplicateWorkers(workers);
		if (!request.skipSshCheck) {
			await Promise.all(workers.map(async worker => probeWorker(worker.name, worker.env)));
			// Somebody may have added one of them while ssh was answering.
			this.#refuseDuplicateWorkers(workers);
		}

		const saved = this.#change([{type: 'workers-added', workers}], [{type: 'workers-added', workers, at: now}]);
		this.#scheduleDispatch();
		await saved;
		return workers;
	}

	async removeWorkers(names: string[], mode: RemoveWorkerMode): Promise<void> {
		this.#refuseWhenStopping();
		const workers = names.map(name => this.#existingWorker(name));
		const busy = workers.filter(worker => this.busySlots(worker.name) > 0);
		if (mode === 'now' && busy.length > 0) {
			const worker = busy[0]!;
			throw new UserError(`worker ${worker.name} is running ${this.#describeRunsOn(worker.name)}: use --wait to remove it when that ends, or --kill to cancel it`);
		}

		const changes: StateChange[] = [];
		const events: SchedulerEvent[] = [];
		const at = Date.now();
		for (const worker of workers) {
			if (busy.includes(worker)) {
				changes.push({type: 'worker-flags', name: worker.name, removeWhenIdle: true});
				events.push({type: 'worker-updated', worker: {...worker, removeWhenIdle: true}, at});
			} else {
				changes.push({type: 'worker-removed', name: worker.name});
				events.push({type: 'worker-removed', name: worker.name, at});
			}
		}

		await this.#change(changes, events);
		if (mode === 'kill') {
			const ids = [...this.#state.running.values()].filter(run => names.includes(run.worker)).map(run => run.id);
			if (ids.length > 0) await this.cancelJobs(ids);
		}
	}

	async setWorkersDrained(names: string[], drained: boolean): Promise<void> {
		this.#refuseWhenStopping();
		const workers = names.map(name => this.#existingWorker(name));
		const at = Date.now();
		const changes: StateChange[] = workers.map(worker => ({type: 'worker-flags', name: worker.name, drained}));
		const events: SchedulerEvent[] = [];
		for (const worker of workers) {
			// `enable` is also how a user vouches for a worker the scheduler took offline.
			if (!drained && worker.offline) {
				changes.push({type: 'worker-health', name: worker.name, unreachableStreak: 0, offline: null, failedRechecks: 0});
				events.push({type: 'worker-online', name: worker.name, how: 'enabled', at});
			}
		}

		const saved = this.#store.apply(changes);
		for (const worker of workers) this.#emit({type: 'worker-updated', worker: {...worker}, at});
		for (const event of events) this.#emit(event);
		await saved;
		if (!drained) this.#scheduleDispatch();
	}

	async tagWorkers(names: string[], add: string[], remove: string[]): Promise<Worker[]> {
		this.#refuseWhenStopping();
		if (names.length === 0) throw new UserError('no worker name given');
		const added = checkTags(add);
		const removed = checkTags(remove);
		if (added.length === 0 && removed.length === 0) throw new UserError('no tag given: write +TAG to add one, -TAG to remove one');
		const both = added.find(tag => removed.includes(tag));
		if (both !== undefined) throw new UserError(`tag ${describeString(both)} is both added and removed`);
		const workers = [...new Set(names)].map(name => this.#existingWorker(name));
		const at = Date.now();
		const changes: StateChange[] = workers.map(worker => ({
			type: 'worker-tags',
			name: worker.name,
			tags: [...new Set([...(worker.tags ?? []), ...added])].filter(tag => !removed.includes(tag)).sort(),
		}));
		const saved = this.#store.apply(changes);
		const updated = workers.map(worker => ({...worker}));
		for (const worker of updated) this.#emit({type: 'worker-updated', worker, at});
		this.#scheduleDispatch();
		await saved;
		return updated;
	}

	async addJobs(newJobs: NewJob[]): Promise<QueuedJob[]> {
		this.#refuseWhenStopping();
		if (newJobs.length === 0) throw new UserError('no job given');
		const checked = await checkNewJobs(newJobs);
		const awaited = new Set(checked.flatMap(job => job.after ?? []));
		const olderRuns = await this.#lastRunsOf([...awaited].filter(id => !this.#isQueuedOrRunning(id)));
		const now = Date.now();
		// Ids are handed out only after every job passed its checks, and with no await in between.
		let id = this.#state.nextJobId;
		const jobs: QueuedJob[] = checked.map(job => ({id: id++, ...job, queuedAt: now}));
		const failedAlready: Array<{job: QueuedJob; failed: number}> = [];
		for (const job of jobs) {
			for (const dependency of job.after ?? []) {
				if (dependency === job.id) throw new UserError(`job ${dependency} cannot run after itself`);
				const end = this.#dependencyEnd(dependency, olderRuns);
				if (end === undefined) throw new UserError(`--after: job ${dependency} is not known (not queued, running or finished here)`);
				if (typeof end === 'number') {
					failedAlready.push({job, failed: end});
					break;
				}
			}
		}

		// A job added after one that already failed for good is recorded as never to run, as if it had been waiting.
		const failedIds = new Set(failedAlready.map(({job}) => job.id));
		const queued = jobs.filter(job => !failedIds.has(job.id));
		let runId = this.#state.nextRunId;
		const dependencyFailed = failedAlready.map(({job, failed}) => dependencyFailedRun(job, runId++, failed, now));
		const saved = this.#change(
			[{type: 'jobs-queued', jobs: queued, ...(dependencyFailed.length > 0 && {dependencyFailed})}],
			[{type: 'jobs-queued', jobs: queued, at: now}],
		);
		this.#recordDependencyFailures(dependencyFailed, false);
		this.#scheduleDispatch();
		await saved;
		return jobs;
	}

	async setJobPriority(ids: number[], priority: number): Promise<QueuedJob[]> {
		this.#refuseWhenStopping();
		const checked = checkPriority(priority);
		const jobIds = checkJobIds(ids, 'the job ids');
		if (jobIds.length === 0) throw new UserError('no job id given');
		for (const id of jobIds) this.#refuseUnlessQueued(id);
		const saved = this.#store.apply([{type: 'jobs-priority', ids: jobIds, priority: checked}]);
		const jobs = jobIds.map(id => this.#state.queue.get(id)!);
		this.#emit({type: 'jobs-updated', jobs, at: Date.now()});
		this.#scheduleDispatch();
		await saved;
		return jobs;
	}

	async removeJobs(selector: JobSelector): Promise<number[]> {
		this.#refuseWhenStopping();
		let ids: number[];
		if ('ids' in selector) {
			for (const id of selector.ids) this.#refuseUnlessQueued(id);
			ids = [...new Set(selector.ids)];
		} else {
			const script = resolve(selector.cwd, selector.script);
			ids = [...this.#state.queue.values()]
				.filter(job => job.script === script && sameArgs(job.args, selector.args))
				.map(job => job.id);
			if (ids.length === 0) throw new UserError(`no queued job runs ${describeString([selector.script, ...selector.args].join(' '))}`);
		}

		const at = Date.now();
		const dependencyFailed = this.#dependencyFailures(ids, at);
		const saved = this.#change([{type: 'jobs-removed', ids, ...(dependencyFailed.length > 0 && {dependencyFailed})}], [{type: 'jobs-removed', ids, at}]);
		this.#recordDependencyFailures(dependencyFailed);
		await saved;
		return ids;
	}

	async cancelJobs(ids: number[], graceMs = defaultCancelGraceMs): Promise<void> {
		this.#refuseWhenStopping();
		const runs = [...this.#state.running.values()];
		const queuedIds: number[] = [];
		const runsToCancel: JobRun[] = [];
		for (const id of new Set(ids)) {
			const run = runs.find(candidate => candidate.id === id);
			if (run) runsToCancel.push(run);
			else if (this.#state.queue.has(id)) queuedIds.push(id);
			else throw new UserError(`job ${id} is neither queued nor running`);
		}

		const at = Date.now();
		const changes: StateChange[] = runsToCancel
			.filter(run => run.cancelRequestedAt === undefined)
			.map(run => ({type: 'run-cancel-requested', runId: run.runId, at, killAt: at + graceMs}));
		const events: SchedulerEvent[] = runsToCancel.map(run => ({type: 'cancel-requested', runId: run.runId, id: run.id, at}));
		const dependencyFailed = this.#dependencyFailures(queuedIds, at);
		if (queuedIds.length > 0) {
			changes.push({type: 'jobs-removed', ids: queuedIds, ...(dependencyFailed.length > 0 && {dependencyFailed})});
			events.push({type: 'jobs-removed', ids: queuedIds, at});
		}

		const saved = this.#change(changes, events);
		this.#recordDependencyFailures(dependencyFailed);
		await saved;
		for (const run of runsToCancel) this.#terminate(run);
	}

	async retryJobs(ids: number[]): Promise<QueuedJob[]> {
		this.#refuseWhenStopping();
		const retried = new Set(ids);
		for (const id of retried) {
			if (this.#state.queue.has(id)) throw new UserError(`job ${id} is already queued`);
			if (this.#state.runningJobIds.has(id)) throw new UserError(`job ${id} is running`);
		}

		// The runs kept in memory answer most retries: whatever was recorded after a job's last run is among them too.
		const recent = new Map(this.#recent.map(run => [run.id, run]));
		const jobs = this.#planRetry(retried, recent, false) ?? this.#planRetry(retried, await this.#allLastRuns(), true)!;
		const now = Date.now();
		for (const job of jobs) job.queuedAt = now;
		const saved = this.#change([{type: 'jobs-queued', jobs}], [{type: 'jobs-queued', jobs, at: now}]);
		this.#scheduleDispatch();
		await saved;
		return jobs;
	}

	/**
	 * The jobs a retry queues again: the retried ones, then those recorded `dependency-failed` because of them.
	 * With `complete` false, `lastRuns` holds only the newest runs: undefined when they do not tell enough.
	 */
	#planRetry(retried: ReadonlySet<number>, lastRuns: ReadonlyMap<number, FinishedRun>, complete: boolean): QueuedJob[] | undefined {
		const jobs: QueuedJob[] = [];
		const requeued = new Set<number>();
		let incomplete = false;
		// Fresh starts: the jobs' settings stay, their counts of attempts do not.
		const requeue = (finished: FinishedRun) => {
			const {attempt, unreachableRequeues, ...job} = queuedJobOf(finished);
			jobs.push(job);
			requeued.add(job.id);
		};

		/** A job this one runs after that failed for good and is not queued again now. */
		const failedDependency = (finished: FinishedRun) => (finished.after ?? []).find(dependency => {
			if (requeued.has(dependency) || this.#isQueuedOrRunning(dependency)) return false;
			const last = lastRuns.get(dependency);
			if (!last && !complete) incomplete = true;
			return last?.outcome !== 'succeeded';
		});

		for (const id of [...retried].sort((left, right) => left - right)) {
			if (this.#isQueuedOrRunning(id)) throw new UserError(`job ${id} is already queued or running`);
			const finished = lastRuns.get(id);
			if (!finished && !complete) return undefined;
			if (!finished) throw new UserError(`job ${id} has never run here (or its runs were removed by clean or the retention policy)`);
			const failed = failedDependency(finished);
			if (incomplete) return undefined;
			if (failed !== undefined) throw new UserError(`job ${id} runs after job ${failed}, which did not succeed: retry job ${failed} (that re-queues job ${id} too)`);
			requeue(finished);
		}

		// What was recorded `dependency-failed` because of a retried job waits for it again, in id order, so that
		// every job comes after those it waits for.
		const rearmed = [...lastRuns.values()]
			.filter(run => run.outcome === 'dependency-failed' && requeued.has(run.dependencyFailed!) && !retried.has(run.id) && !this.#isQueuedOrRunning(run.id))
			.sort((left, right) => left.id - right.id);
		for (const finished of rearmed) {
			if (failedDependency(finished) === undefined) requeue(finished);
		}

		return incomplete ? undefined : jobs;
	}

	async clean(request: unknown): Promise<CleanResult> {
		this.#refuseWhenStopping();
		return this.#retention.clean(checkCleanRequest(request));
	}

	async setPaused(paused: boolean): Promise<void> {
		this.#refuseWhenStopping();
		if (this.#state.paused === paused) return;
		await this.#change([{type: 'paused', paused}], [{type: paused ? 'paused' : 'resumed', at: Date.now()}]);
		if (!paused) this.#scheduleDispatch();
	}

	async loadStatus(status: unknown, cwd: string): Promise<void> {
		this.#refuseWhenStopping();
		if (this.#state.running.size > 0) {
			throw new UserError(`${this.#state.running.size} job(s) are running: wait for them (or cancel them) before replacing the state`);
		}

		const imported = parseStatus(status, cwd);
		const now = Date.now();
		const workers = imported.workers.map(entry => checkNewWorker(entry, now));
		const names = new Set<string>();
		for (const worker of workers) {
			if (names.has(worker.name)) throw new UserError(`worker ${describeString(worker.name)} appears twice in the status`);
			names.add(worker.name);
		}

		const checked = await checkNewJobs(imported.jobs);
		let id = this.#state.nextJobId;
		const queue = checked.map(job => ({id: id++, ...job, queuedAt: now}));
		const saved = this.#change([{type: 'state-replaced', workers, queue, nextJobId: id}], [{type: 'state-loaded', at: now}]);
		this.#scheduleDispatch();
		await saved;
	}

	async stop(): Promise<void> {
		if (this.#stopping) return;
		this.#stopping = true;
		this.#emit({type: 'stopping', at: Date.now()});
		clearInterval(this.#adoptedPoll);
		clearTimeout(this.#recheckTimer);
		clearTimeout(this.#wakeTimer?.timer);
		clearTimeout(this.#afterSaveFailure);
		for (const timer of [...this.#killTimers.values(), ...this.#timeoutTimers.values(), ...this.#lostStarterTimers]) clearTimeout(timer);
		await Promise.all(this.#spawning);
		try {
			await this.#retention.close();
			await this.#starter.close();
			await this.#store.close();
		} finally {
			await this.#lock.release();
			this.#resolveStopped();
		}
	}

	// Dispatch: hand queued jobs to free worker slots, first in, first out.

	#scheduleDispatch(): void {
		if (this.#dispatchScheduled) return;
		this.#dispatchScheduled = true;
		// One pass per burst of changes, not one per change.
		setImmediate(() => {
			this.#dispatchScheduled = false;
			this.#dispatch();
		});
	}

	#dispatch(): void {
		if (this.#stopping || this.#state.paused) return;
		const now = Date.now();
		if (now - this.#saveFailedAt < afterSaveFailureMs) {
			this.#wakeAt(this.#saveFailedAt + afterSaveFailureMs);
			return;
		}

		const nextRetryAt = this.#state.queue.promoteDue(now);
		if (nextRetryAt !== undefined) this.#wakeAt(nextRetryAt);
		const started: Array<{run: JobRun; saved: Promise<void>}> = [];
		for (let match = nextMatch(this.#state); match; match = nextMatch(this.#state)) {
			const {job} = match;
			const worker = this.#state.workers.get(match.worker)!;
			const runId = this.#state.nextRunId;
			const run: JobRun = {
				...job,
				runId,
				worker: worker.name,
				startedAt: Date.now(),
				logFile: join(this.logDir, `job_${runId}.txt`),
			};
			// The run is on disk before its process exists, so a crash can never start it twice.
			started.push({run, saved: this.#store.apply([{type: 'run-started', run}])});
			this.#emit({type: 'job-started', run, at: run.startedAt});
		}

		for (const {run, saved} of started) {
			const spawning = saved.then(
				() => this.#spawn(run),
				(error: Error) => this.#emit({type: 'error', message: `job ${run.id} was not started: ${error.message}`, at: Date.now()}),
			);
			this.#spawning.add(spawning);
			void spawning.finally(() => this.#spawning.delete(spawning));
		}
	}

	/** Dispatches again when a retry's delay runs out. */
	#wakeAt(at: number): void {
		if (this.#wakeTimer && this.#wakeTimer.at <= at) return;
		clearTimeout(this.#wakeTimer?.timer);
		const timer = setTimeout(() => {
			this.#wakeTimer = undefined;
			this.#scheduleDispatch();
		}, Math.max(0, at - Date.now()));
		timer.unref();
		this.#wakeTimer = {at, timer};
	}

	async #spawn(run: JobRun): Promise<void> {
		const worker = this.#state.workers.get(run.worker);
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
			exitFile: this.#exitFile(run),
		});
		if (started.type === 'lost') {
			this.#adoptLost(run);
			return;
		}

		if (started.type === 'not-started') {
			// Its log file could not be opened (the log dir was removed, the disk is full…).
			if (started.error !== undefined) this.#emit({type: 'error', message: `job ${run.id} could not start: ${started.error}`, at: Date.now()});
			this.#finish(run, {exitCode: 127, signal: null});
			return;
		}

		this.#commit([{type: 'run-spawned', runId: run.runId, pid: started.pid, pidStartTime: started.pidStartTime}]);
		this.#children.add(run.runId);
		void started.exited.then(wrapper => {
			this.#children.delete(run.runId);
			if (wrapper === 'lost') this.#adoptLost(run);
			else this.#finishFromExitFile(run, wrapper);
		});
		this.#armTimeout(run);
		// A cancel that came while the starter was at work had no pid to signal.
		const current = this.#state.running.get(run.runId);
		if (current?.cancelRequestedAt !== undefined) this.#terminate(current);
	}

	/** The job starter died: its jobs, and any it may have started unannounced, are watched like a previous scheduler's. */
	#adoptLost(run: JobRun): void {
		const timer = setTimeout(() => {
			this.#lostStarterTimers.delete(timer);
			const current = this.#state.running.get(run.runId);
			if (!current || this.#stopping) return;
			this.#adopt(current);
			// A run it never started went back to the queue: nothing else may come along to hand it out.
			this.#scheduleDispatch();
		}, lostStarterGraceMs);
		this.#lostStarterTimers.add(timer);
	}

	#finishFromExitFile(run: JobRun, wrapper: Exclude<WrapperExit, 'lost'>): void {
		if (!this.#state.running.has(run.runId) || this.#stopping) return;
		const status = readExitFile(this.#exitFile(run));
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
		const unreachable = outcome === 'failed' && isUnreachableExit(exit.exitCode, this.#health);
		const next = nextAttempt(run, outcome, unreachable, this.#health, endedAt);
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
		this.#recent.push(finished);
		if (this.#recent.length > recentRunsKept) this.#recent.splice(0, this.#recent.length - recentRunsKept);
		// The totals count jobs that are done for good, not attempts.
		if (outcome === 'succeeded') this.#totals.done++;
		else if (!next) this.#totals.failed++;

		// A job that failed for good takes down every job waiting for it, in the same change.
		const dependencyFailed = !next && outcome !== 'succeeded' ? this.#dependencyFailures([run.id], endedAt) : [];
		const changes: StateChange[] = [{
			type: 'run-finished',
			run: finished,
			...(next && {requeue: next.job}),
			...(dependencyFailed.length > 0 && {dependencyFailed}),
		}];
		const workerBefore = this.#state.workers.get(run.worker);
		const health = workerBefore && healthAfterRun(workerBefore, unreachable, this.#health, endedAt);
		const wentOffline = health?.offline && !workerBefore?.offline;
		if (health) changes.push({type: 'worker-health', name: run.worker, ...health});
		const saved = this.#store.apply(changes);
		this.#emit({type: 'job-finished', run: finished, at: endedAt});
		this.#recordDependencyFailures(dependencyFailed);
		if (next) this.#emit({type: 'jobs-queued', jobs: [next.job], front: true, at: endedAt});
		const worker = this.#state.workers.get(run.worker);
		if (worker) this.#emit({type: 'worker-updated', worker: {...worker}, at: endedAt});
		else this.#emit({type: 'worker-removed', name: run.worker, at: endedAt});
		if (wentOffline && health.offline) {
			this.#emit({type: 'worker-offline', name: run.worker, exitCode: exit.exitCode!, runs: health.unreachableStreak, nextCheckAt: health.offline.nextCheckAt, at: endedAt});
			this.#scheduleRecheck();
		}

		// The exit file goes only once the finish is on disk: until then it is what tells a restart how the job ended.
		saved.then(
			async () => {
				this.#childExits.delete(run.runId);
				await unlink(this.#exitFile(run)).catch(() => undefined);
			},
			(error: Error) => this.#emit({type: 'error', message: error.message, at: Date.now()}),
		);
		this.#scheduleDispatch();
	}

	// Cancellation: SIGTERM to the job's process group, SIGKILL when the grace runs out.

	#terminate(run: JobRun): void {
		const current = this.#state.running.get(run.runId);
		if (!current?.pid || current.cancelKillAt === undefined) return;
		signalJobGroup(current.pid, 'SIGTERM');
		this.#armKill(current);
	}

	#armKill(run: JobRun): void {
		if (this.#killTimers.has(run.runId) || run.cancelKillAt === undefined) return;
		const timer = setTimeout(() => {
			this.#killTimers.delete(run.runId);
			if (run.pid && this.#state.running.has(run.runId) && isProcessAlive(run.pid, run.pidStartTime)) {
				signalJobGroup(run.pid, 'SIGKILL');
			}
		}, Math.max(0, run.cancelKillAt - Date.now()));
		timer.unref();
		this.#killTimers.set(run.runId, timer);
	}

	// Timeouts: a run past its job's time limit is cancelled as `cancel` does it, and recorded as timed out.

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
		const run = this.#state.running.get(runId);
		if (!run || run.cancelRequestedAt !== undefined || this.#stopping) return;
		const at = Date.now();
		this.#commit([{type: 'run-cancel-requested', runId, at, killAt: at + defaultCancelGraceMs, timedOut: true}]);
		this.#emit({type: 'cancel-requested', runId, id: run.id, timedOut: true, at});
		this.#terminate(run);
	}

	// Offline workers: re-checked now and then, and given jobs again once they answer.

	#scheduleRecheck(): void {
		clearTimeout(this.#recheckTimer);
		let next = Number.POSITIVE_INFINITY;
		for (const worker of this.#state.workers.values()) {
			if (worker.offline && !this.#rechecking.has(worker.name)) next = Math.min(next, worker.offline.nextCheckAt);
		}

		if (next === Number.POSITIVE_INFINITY || this.#stopping) return;
		this.#recheckTimer = setTimeout(() => {
			this.#recheckDue();
		}, Math.max(0, next - Date.now()));
		this.#recheckTimer.unref();
	}

	#recheckDue(): void {
		const now = Date.now();
		for (const worker of this.#state.workers.values()) {
			if (!worker.offline || worker.offline.nextCheckAt > now || this.#rechecking.has(worker.name)) continue;
			if (worker.sshChecked) void this.#recheck(worker);
			else this.#setHealth(worker, healthOnProbation(worker, this.#health), {type: 'worker-online', name: worker.name, how: 'probation', at: now});
		}

		this.#scheduleRecheck();
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

		const current = this.#state.workers.get(worker.name);
		// Removed, or enabled by hand, while ssh was answering.
		if (this.#stopping || !current?.offline) return;
		const at = Date.now();
		const health = healthAfterRecheck(current, failure === undefined, this.#health, at);
		this.#setHealth(current, health, failure === undefined
			? {type: 'worker-online', name: current.name, how: 'answered', at}
			: {type: 'worker-recheck-failed', name: current.name, message: failure, nextCheckAt: health.offline!.nextCheckAt, at});
		this.#scheduleRecheck();
	}

	#setHealth(worker: Worker, health: WorkerHealth, event: SchedulerEvent): void {
		this.#commit([{type: 'worker-health', name: worker.name, ...health}]);
		this.#emit({type: 'worker-updated', worker: {...worker}, at: event.at});
		this.#emit(event);
		if (!health.offline) this.#scheduleDispatch();
	}

	// Adoption: runs a previous scheduler started are finished, watched, or put back in the queue.

	async #adoptRunningJobs(): Promise<void> {
		// First, while the state is still exactly what is on disk: once #adopt has finished a run in
		// memory, its exit file must stay until that finish is saved (#finish removes it then), or a
		// crash in between would leave a run with no way to learn how it ended.
		await this.#removeStaleExitFiles();
		for (const run of [...this.#state.running.values()]) this.#adopt(run);
	}

	/** Watches a run whose process is not our child, or records how it ended. */
	#adopt(run: JobRun): void {
		const childExit = this.#childExits.get(run.runId);
		if (childExit) {
			// Our child, whose end could not be saved the first time.
			this.#finish(run, childExit);
			return;
		}

		const exitFile = this.#exitFile(run);
		const pid = run.pid ?? findJobProcess(exitFile);
		if (pid !== undefined && isProcessAlive(pid, run.pid === undefined ? undefined : run.pidStartTime)) {
			if (run.pid === undefined) this.#commit([{type: 'run-spawned', runId: run.runId, pid, pidStartTime: undefined}]);
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
			this.#commit([{type: 'run-abandoned', runId: run.runId}]);
		} else {
			this.#finish(run, {exitCode: null, signal: null});
		}
	}

	/** Exit files of runs already recorded (a crash came between the record and the clean-up). */
	async #removeStaleExitFiles(): Promise<void> {
		const files = await readdir(this.#runsDir).catch(() => []);
		await Promise.all(files
			.filter(file => file.endsWith('.exit') && !this.#state.running.has(Number(file.slice(0, -'.exit'.length))))
			.map(async file => unlink(join(this.#runsDir, file)).catch(() => undefined)));
	}

	#pollAdopted(): void {
		for (const run of this.#adopted.values()) {
			if (run.pid !== undefined && isProcessAlive(run.pid, run.pidStartTime)) continue;
			this.#adopted.delete(run.runId);
			const status = readExitFile(this.#exitFile(run));
			this.#finish(run, typeof status === 'object' ? status : {exitCode: null, signal: null});
		}

		if (this.#adopted.size === 0) {
			clearInterval(this.#adoptedPoll);
			this.#adoptedPoll = undefined;
		}
	}

	// A failed save: the store has read the state back from disk; what was refused must not show.

	#afterSaveFailed(error: Error): void {
		const at = Date.now();
		this.#saveFailedAt = at;
		// Finishes that were refused: those runs are running again as far as the state knows.
		// And jobs recorded `dependency-failed` that are back in the queue.
		const rolledBack = this.#recent.filter(run => this.#state.running.has(run.runId) || (run.outcome === 'dependency-failed' && this.#state.queue.has(run.id)));
		for (const run of rolledBack) this.#recent.splice(this.#recent.indexOf(run), 1);
		this.#emit({type: 'error', message: error.message, at});
		this.#emit({type: 'state-loaded', at});
		// Once the disk may have room again: runs that ended meanwhile are recorded, and jobs start again.
		clearTimeout(this.#afterSaveFailure);
		this.#afterSaveFailure = setTimeout(() => {
			for (const run of [...this.#state.running.values()]) {
				if (!this.#children.has(run.runId) && !this.#adopted.has(run.runId)) this.#adopt(run);
			}

			this.#scheduleDispatch();
		}, afterSaveFailureMs);
		this.#afterSaveFailure.unref();
	}

	// Helpers.

	/** Applies changes, tells the listeners, and resolves once the changes are on disk. */
	async #change(changes: StateChange[], events: SchedulerEvent[]): Promise<void> {
		if (changes.length === 0) return;
		const saved = this.#store.apply(changes);
		for (const event of events) this.#emit(event);
		await saved;
	}

	/** Applies changes that no caller waits for; a failure to save is reported as an event. */
	#commit(changes: StateChange[]): void {
		this.#store.apply(changes).catch((error: Error) => {
			this.#emit({type: 'error', message: error.message, at: Date.now()});
		});
	}

	#emit(event: SchedulerEvent): void {
		this.#pendingEvents.push(event);
		if (this.#pendingEvents.length > 1) return;
		queueMicrotask(() => {
			const events = this.#pendingEvents;
			this.#pendingEvents = [];
			for (const listener of this.#listeners) listener(events);
		});
	}

	#exitFile(run: JobRun): string {
		return join(this.#runsDir, `${run.runId}.exit`);
	}

	#refuseWhenStopping(): void {
		if (this.#stopping) throw new UserError('the scheduler is stopping');
	}

	#refuseDuplicateWorkers(workers: Worker[]): void {
		const names = new Set<string>();
		for (const worker of workers) {
			if (this.#state.workers.has(worker.name) || names.has(worker.name)) {
				throw new UserError(`worker ${describeString(worker.name)} already exists`);
			}

			names.add(worker.name);
		}
	}

	#existingWorker(name: string): Worker {
		const worker = this.#state.workers.get(name);
		if (!worker) throw new UserError(`there is no worker named ${describeString(name)}`);
		return worker;
	}

	#refuseUnlessQueued(id: number): void {
		if (this.#state.queue.has(id)) return;
		if ([...this.#state.running.values()].some(run => run.id === id)) throw new UserError(`job ${id} is running: use \`jobdeck cancel ${id}\``);
		throw new UserError(`job ${id} is not queued`);
	}

	#describeRunsOn(worker: string): string {
		const ids = [...this.#state.running.values()].filter(run => run.worker === worker).map(run => run.id);
		return `job${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`;
	}

	#isQueuedOrRunning(id: number): boolean {
		return this.#state.queue.has(id) || this.#state.runningJobIds.has(id);
	}

	/** The last run of each of these jobs, from the runs kept in memory or else the history file. */
	async #lastRunsOf(ids: number[]): Promise<Map<number, FinishedRun>> {
		const found = new Map<number, FinishedRun>();
		const wanted = new Set(ids);
		for (const run of this.#recent) if (wanted.has(run.id)) found.set(run.id, run);
		if (found.size === wanted.size) return found;
		const all = await this.#allLastRuns();
		for (const id of wanted) {
			const run = all.get(id);
			if (run) found.set(id, run);
		}

		return found;
	}

	/** Every job's last run: the history file has every run, the newest ones may still be on their way to it. */
	async #allLastRuns(): Promise<Map<number, FinishedRun>> {
		const lastRuns = new Map<number, FinishedRun>();
		const fromFile = await readHistoryFrom(this.#store.files.history, 0);
		const inFile = new Set(fromFile.map(run => run.runId));
		for (const run of fromFile) lastRuns.set(run.id, run);
		for (const run of this.#recent) if (!inFile.has(run.runId)) lastRuns.set(run.id, run);
		return lastRuns;
	}

	/**
	 * How a job this one waits for stands, read after the last await: undefined when unknown, `pending`
	 * while it is queued or running, `succeeded`, or the id of the failed job to name (a job that never
	 * ran as its own dependency failed names that one).
	 */
	#dependencyEnd(id: number, olderRuns: Map<number, FinishedRun>): 'pending' | 'succeeded' | number | undefined {
		if (this.#isQueuedOrRunning(id)) return 'pending';
		// It may have ended during the await: its run is in memory then.
		const run = this.#recent.findLast(candidate => candidate.id === id) ?? olderRuns.get(id);
		if (!run) return undefined;
		if (run.outcome === 'succeeded') return 'succeeded';
		return run.outcome === 'dependency-failed' ? run.dependencyFailed! : id;
	}

	/** Every queued job downstream of these jobs (which fail for good or leave the queue), as `dependency-failed` runs. */
	#dependencyFailures(ids: readonly number[], at: number): FinishedRun[] {
		const runs: FinishedRun[] = [];
		const seen = new Set(ids);
		let runId = this.#state.nextRunId;
		const stack = ids.map(id => ({id, root: id}));
		for (let item = stack.pop(); item; item = stack.pop()) {
			for (const dependent of this.#state.dependencies.dependentsOf(item.id)) {
				const job = this.#state.queue.get(dependent);
				if (seen.has(dependent) || !job) continue;
				seen.add(dependent);
				runs.push(dependencyFailedRun(job, runId++, item.root, at));
				stack.push({id: dependent, root: item.root});
			}
		}

		return runs.sort((left, right) => left.runId - right.runId);
	}

	/** Tells the listeners about dependency-failed runs already applied to the state. */
	#recordDependencyFailures(runs: FinishedRun[], wereQueued = true): void {
		if (runs.length === 0) return;
		const at = runs[0]!.endedAt;
		if (wereQueued) this.#emit({type: 'jobs-removed', ids: runs.map(run => run.id), at});
		for (const run of runs) {
			this.#recent.push(run);
			this.#totals.failed++;
			this.#emit({type: 'job-finished', run, at});
		}

		if (this.#recent.length > recentRunsKept) this.#recent.splice(0, this.#recent.length - recentRunsKept);
	}
}

/** The record of a job that will never run, as `failed` (a job it waited for, maybe further up) failed for good. */
function dependencyFailedRun(job: QueuedJob, runId: number, failed: number, at: number): FinishedRun {
	const {notBefore, ...fields} = job;
	return {
		...fields,
		runId,
		worker: '',
		startedAt: at,
		logFile: '',
		endedAt: at,
		exitCode: null,
		signal: null,
		outcome: 'dependency-failed',
		dependencyFailed: failed,
	};
}

function tagsOf(tags: unknown): Pick<Worker, 'tags'> {
	const checked = checkTags(tags);
	return checked.length > 0 ? {tags: checked} : {};
}

function checkNewWorker(entry: NewWorker, now: number): Worker {
	return {
		name: checkWorkerName(entry.name),
		slots: checkSlots(entry.slots ?? 1),
		env: checkEnv(entry.env),
		...(tagsOf(entry.tags)),
		addedAt: now,
		removeWhenIdle: false,
		drained: false,
		jobsDone: 0,
		jobsFailed: 0,
	};
}

/** Checks jobs before any is queued, in order; a batch shares one check per directory and per script. */
async function checkNewJobs(newJobs: NewJob[]): Promise<Array<Omit<QueuedJob, 'id' | 'queuedAt'>>> {
	// Only the first job with a directory or script waits for the file system: 100,000 jobs of one script cost no more awaits than one.
	const checkedDirectories = new Set<unknown>();
	const checkedScripts = new Set<string>();
	const checked: Array<Omit<QueuedJob, 'id' | 'queuedAt'>> = [];
	for (const job of newJobs) {
		if (!checkedDirectories.has(job.cwd)) {
			await checkDirectory(job.cwd);
			checkedDirectories.add(job.cwd);
		}

		const script = resolve(job.cwd, checkScriptName(job.script));
		if (!checkedScripts.has(script)) {
			await checkExecutable(script);
			checkedScripts.add(script);
		}

		checked.push({script, args: checkArgs(job.args), env: checkEnv(job.env), cwd: job.cwd, ...checkJobSettings(job)});
	}

	return checked;
}

/** Only the settings a job has are stored: most jobs have none. */
function checkJobSettings(job: NewJob): Pick<QueuedJob, 'retries' | 'retryDelayMs' | 'timeoutMs' | 'needs' | 'priority' | 'after'> {
	const retries = job.retries === undefined ? 0 : checkRetries(job.retries);
	const needs = checkTags(job.needs);
	const priority = job.priority === undefined ? 0 : checkPriority(job.priority);
	const after = checkJobIds(job.after, '--after');
	return {
		...(needs.length > 0 && {needs}),
		...(priority !== 0 && {priority}),
		...(after.length > 0 && {after}),
		...(retries > 0 && {retries}),
		...(job.retryDelayMs !== undefined && job.retryDelayMs !== 0 && {retryDelayMs: checkDurationMs(job.retryDelayMs, 'the retry delay', true)}),
		...(job.timeoutMs !== undefined && {timeoutMs: checkDurationMs(job.timeoutMs, 'the timeout', false)}),
	};
}

function checkScriptName(script: string): string {
	if (typeof script !== 'string' || script.length === 0) throw new UserError('the script is empty');
	if (script.includes('\0')) throw new UserError('the script name contains a NUL byte');
	return script;
}

async function checkDirectory(cwd: string): Promise<string> {
	if (typeof cwd !== 'string' || !isAbsolute(cwd)) throw new UserError('the job\'s directory must be an absolute path');
	const info = await stat(cwd).catch(() => undefined);
	if (!info?.isDirectory()) throw new UserError(`the job's directory ${cwd} does not exist`);
	return cwd;
}

async function checkExecutable(script: string): Promise<void> {
	const info = await stat(script).catch(() => undefined);
	if (!info) throw new UserError(`script ${script} does not exist`);
	if (info.isDirectory()) throw new UserError(`script ${script} is a directory, not an executable file`);
	try {
		await access(script, constants.X_OK);
	} catch {
		throw new UserError(`script ${script} is not executable: run \`chmod +x ${script}\``);
	}
}

function sameArgs(left: readonly string[], right: readonly string[]): boolean {
	return left.length === right.length && left.every((arg, index) => arg === right[index]);
}
