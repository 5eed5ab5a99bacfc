import {chmod, mkdir} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import type {FinishedRun, QueuedJob, Worker} from '../core/model.js';
import type {
	AddWorkersRequest,
	FinishedRunsQuery,
	JobSelector,
	NewJob,
	QueuePage,
	QueuePageRequest,
	RemoveWorkerMode,
	Scheduler,
	SchedulerEventListener,
	SchedulerSnapshot,
	SnapshotOptions,
	SubscribeOptions,
} from '../core/scheduler.js';
import {jobMatches, normalizedFilter} from '../core/queue-filter.js';
import {withRecentRuns} from '../core/recent-runs.js';
import {checkCleanRequest, type CleanRequest, type CleanResult, type RetentionChange} from '../core/retention.js';
import {waitReasons} from '../core/wait-reason.js';
import * as jobCommands from './commands/job-commands.js';
import * as pauseAndLoad from './commands/pause-and-load.js';
import {retryJobs} from './commands/retry-jobs.js';
import * as workerCommands from './commands/worker-commands.js';
import {lockDataDir, type DataDirLock} from './data-dir-lock.js';
import {makeDirPrivate} from './private-dir.js';
import {Dispatcher} from './dispatcher.js';
import {refuseWhenStopping, type EngineContext} from './engine-context.js';
import {EventBus} from './event-bus.js';
import {FaultRegister} from './fault-register.js';
import {HealthMonitor} from './health-monitor.js';
import {RunHistory} from './run-history.js';
import {Retention} from './retention.js';
import {RunSupervisor} from './run-supervisor.js';
import {readHistoryFrom, readHistoryTail} from './state/history-file.js';
import type {SchedulerState} from './state/scheduler-state.js';
import {makeDirectory, type Durability} from './state/durable-file.js';
import {StateStore} from './state/state-store.js';
import {TimerRegistry} from './timer-registry.js';
import {defaultHealthPolicy, type HealthPolicy} from './worker-health.js';

// The scheduler itself: it owns the state, hands queued jobs to free worker
// slots, runs them, watches them end, and adopts the jobs a previous
// scheduler left running. It knows nothing of terminals: the headless server
// and the UI both drive it through the Scheduler interface.
//
// This class is the façade: start-up, stop, the queries, and the wiring of
// the parts (commands/, the dispatcher, the run supervisor, the health
// monitor, the event bus, the history).

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

export class Engine implements Scheduler {
	readonly dataDir: string;
	readonly logDir: string;
	readonly #store: StateStore;
	readonly #lock: DataDirLock;
	readonly #bus: EventBus;
	readonly #history: RunHistory;
	readonly #context: EngineContext;
	readonly #dispatcher: Dispatcher;
	readonly #supervisor: RunSupervisor;
	readonly #healthMonitor: HealthMonitor;
	readonly #timers = new TimerRegistry();
	readonly #retention: Retention;

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
		await makeDirPrivate(dataDir, 'data dir');
		await chmod(dataDir, 0o700);
		await mkdir(logDir, {recursive: true, mode: 0o700});
		await makeDirPrivate(logDir, 'log dir');
		// runs/ too: the exit files go there.
		await makeDirectory(join(dataDir, 'runs'), 0o700, durability);
		await makeDirPrivate(join(dataDir, 'runs'), 'runs dir', {noLink: true});
		const lock = await lockDataDir(dataDir);
		try {
			const store = await StateStore.open(dataDir, {sync: options.sync});
			const bus = new EventBus(() => store.state.queue.size);
			const history = await RunHistory.load(store.files.history);
			const engine = new Engine(dataDir, logDir, store, lock, bus, history, {...defaultHealthPolicy, ...options.health}, durability);
			await engine.#retention.start(options.retention);
			await engine.#supervisor.adoptRunningJobs();
			engine.#supervisor.warmUp();
			engine.#healthMonitor.scheduleRecheck();
			engine.#dispatcher.scheduleDispatch();
			return engine;
		} catch (error) {
			await lock.release();
			throw error;
		}
	}

	private constructor(dataDir: string, logDir: string, store: StateStore, lock: DataDirLock, bus: EventBus, history: RunHistory, health: HealthPolicy, durability: Durability) {
		this.dataDir = dataDir;
		this.logDir = logDir;
		this.#store = store;
		this.#lock = lock;
		this.#bus = bus;
		this.#history = history;
		const faults = new FaultRegister(bus);
		bus.onSaved = () => {
			faults.clear('save');
		};
		this.#context = {
			store,
			get state() {
				return store.state;
			},
			logDir,
			runsDir: join(dataDir, 'runs'),
			durability,
			health,
			bus,
			faults,
			history,
			timers: this.#timers,
			isStopping: () => this.#stopping,
			scheduleDispatch: () => {
				this.#dispatcher.scheduleDispatch();
			},
			scheduleRecheck: () => {
				this.#healthMonitor.scheduleRecheck();
			},
			cancelJobs: async (ids, graceMs) => jobCommands.cancelJobs(this.#context, ids, graceMs),
			terminate: run => {
				this.#supervisor.terminate(run);
			},
		};
		this.#dispatcher = new Dispatcher(this.#context, async run => this.#supervisor.spawn(run));
		this.#supervisor = new RunSupervisor(this.#context, this.#dispatcher);
		this.#healthMonitor = new HealthMonitor(this.#context);
		store.onReload(error => {
			this.#supervisor.afterSaveFailed(error);
		});
		this.#retention = new Retention(store, removed => {
			history.drop(removed);
		}, message => {
			bus.emit({type: 'error', message, at: Date.now()});
		});
	}

	get #state(): SchedulerState {
		return this.#store.state;
	}

	// The Scheduler interface answers with promises, as a client over the socket must.
	snapshot(options: SnapshotOptions = {}): Promise<SchedulerSnapshot> {
		return Promise.resolve({
			dataDir: this.dataDir,
			logDir: this.logDir,
			running: !this.#stopping,
			paused: this.#state.paused,
			workers: [...this.#state.workers.values()],
			queue: options.queue === false ? [] : [...this.#state.queue.values()],
			queueLength: this.#state.queue.size,
			runningJobs: [...this.#state.running.values()],
			finished: [...this.#history.recent],
			totals: {...this.#history.totals},
			faults: this.#context.faults.list(),
			retention: this.#retention.status(),
		});
	}

	/** Jobs running on a worker right now. */
	busySlots(name: string): number {
		return this.#state.busySlots.get(name) ?? 0;
	}

	subscribe(listener: SchedulerEventListener, options: SubscribeOptions = {}): () => void {
		return this.#bus.subscribe(listener, options);
	}

	queuePage({offset, limit, filter}: QueuePageRequest): Promise<QueuePage> {
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
		return Promise.resolve({offset, jobs: jobs.map(job => ({...job, waiting: reasonOf(job)})), total});
	}

	async finishedRuns(query: FinishedRunsQuery): Promise<FinishedRun[]> {
		if ('jobs' in query) return [...(await this.#history.lastRunsOf(query.jobs)).values()];
		const {history} = this.#store.files;
		const fromFile = query.newest === 'all' ? await readHistoryFrom(history, 0) : await readHistoryTail(history, query.newest);
		return withRecentRuns(fromFile, this.#history.recent, query.newest);
	}

	async addWorkers(request: AddWorkersRequest): Promise<Worker[]> {
		return workerCommands.addWorkers(this.#context, request);
	}

	async removeWorkers(names: string[], mode: RemoveWorkerMode): Promise<void> {
		return workerCommands.removeWorkers(this.#context, names, mode);
	}

	async setWorkersDrained(names: string[], drained: boolean): Promise<void> {
		return workerCommands.setWorkersDrained(this.#context, names, drained);
	}

	async tagWorkers(names: string[], add: string[], remove: string[]): Promise<Worker[]> {
		return workerCommands.tagWorkers(this.#context, names, add, remove);
	}

	async addJobs(newJobs: NewJob[]): Promise<QueuedJob[]> {
		return jobCommands.addJobs(this.#context, newJobs);
	}

	async setJobPriority(ids: number[], priority: number): Promise<QueuedJob[]> {
		return jobCommands.setJobPriority(this.#context, ids, priority);
	}

	async removeJobs(selector: JobSelector): Promise<number[]> {
		return jobCommands.removeJobs(this.#context, selector);
	}

	async cancelJobs(ids: number[], graceMs?: number): Promise<void> {
		return jobCommands.cancelJobs(this.#context, ids, graceMs);
	}

	async retryJobs(ids: number[]): Promise<QueuedJob[]> {
		return retryJobs(this.#context, ids);
	}

	async clean(request: CleanRequest): Promise<CleanResult> {
		refuseWhenStopping(this.#context);
		return this.#retention.clean(checkCleanRequest(request));
	}

	async setPaused(paused: boolean): Promise<void> {
		return pauseAndLoad.setPaused(this.#context, paused);
	}

	async loadStatus(status: unknown, cwd: string): Promise<void> {
		return pauseAndLoad.loadStatus(this.#context, status, cwd);
	}

	/** Resolves once the store is closed and the data dir unlocked, also when another call began the stop. */
	async stop(): Promise<void> {
		if (this.#stopping) return this.stopped;
		this.#stopping = true;
		this.#bus.emit({type: 'stopping', at: Date.now()});
		this.#timers.clearAll();
		try {
			await this.#retention.close();
			await this.#supervisor.stop();
			// Spawns that were under way may have armed a timeout.
			this.#timers.clearAll();
			await this.#store.close();
		} finally {
			await this.#lock.release();
			this.#resolveStopped();
		}
	}
}
