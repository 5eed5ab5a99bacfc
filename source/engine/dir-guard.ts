import {randomBytes} from 'node:crypto';
import {open, stat, unlink} from 'node:fs/promises';
import {join} from 'node:path';
import type {SchedulerFault} from '../core/scheduler.js';
import {errnoReason} from '../core/error-message.js';
import type {EngineContext} from './engine-context.js';

// When the job starter cannot make a run's file (its log in the log dir, its
// exit file in runs/), the fault is the scheduler's, not the job's: the job
// never started, goes back to the queue with no retry used (the run
// supervisor abandons the run), and here that file's dir is seen to. A dir
// that is gone is made again (0700, private). Any other trouble (no space, no
// inodes, no permission) pauses the handing out of jobs with the dir's fault
// (`logs`, `exit-files`), until a re-check every `dirRecheckMs` can create,
// write and remove a file there. This is not the user's pause: that one stays
// until `resume`; this one clears by itself. One guard a dir.

export const dirRecheckMs = 2000;

/** A dir the job starter makes each run's files in, and the words for it. */
export type GuardedDir = {
	readonly path: string;
	/** Raised while no file can be made there; the dispatcher hands out nothing meanwhile. */
	readonly fault: SchedulerFault['kind'];
	/** What is made there, as in `cannot write logs in DIR`: 'logs', 'exit files'. */
	readonly files: string;
	/** What the dir is called, as in `the log dir DIR was gone`: 'log dir', 'runs dir'. */
	readonly name: string;
	/** Makes the dir again (0700, private) once it is gone. */
	remake(): Promise<void>;
};

export class DirGuard {
	readonly #context: EngineContext;
	readonly #dir: GuardedDir;
	readonly #recheckTimer: string;
	/** Goes up whenever the dir was made again or its fault cleared: a file that failed before then says nothing of the dir now. */
	#epoch = 0;
	/** One look at the dir at a time: a burst of failed starts is one fault. */
	#looking: Promise<void> = Promise.resolve();

	constructor(context: EngineContext, dir: GuardedDir) {
		this.#context = context;
		this.#dir = dir;
		this.#recheckTimer = `dir-recheck:${dir.fault}`;
	}

	/** Taken when a job's start is asked for, and handed back to `fileFailed` with its failure. */
	get epoch(): number {
		return this.#epoch;
	}

	/** The job starter could not make a file in this dir (`error`, its words); the run asked for it at `epoch`. */
	async fileFailed(error: string, epoch: number): Promise<void> {
		const looked = this.#looking.then(async () => this.#look(error, epoch));
		this.#looking = looked.catch(() => undefined);
		return looked;
	}

	async #look(error: string, epoch: number): Promise<void> {
		const {faults, bus} = this.#context;
		const {path, fault, files, name} = this.#dir;
		// Made again or cleared since this run asked: its failure is old news.
		if (epoch !== this.#epoch || this.#context.isStopping()) return;
		const seen = await stat(path).catch((error_: unknown) => error_);
		if (seen instanceof Error && (seen as NodeJS.ErrnoException).code === 'ENOENT') {
			try {
				await this.#dir.remake();
				this.#epoch++;
				bus.emit({type: 'error', message: `the ${name} ${path} was gone: made it again; the jobs that could not start are queued again, no retry used`, at: Date.now()});
				return;
			} catch (error_) {
				faults.raise(fault, `cannot write ${files} in ${path}: it was gone and could not be made again: ${errnoReason(error_)}`);
				this.#armRecheck();
				return;
			}
		}

		const probeError = await probe(path);
		faults.raise(fault, `cannot write ${files} in ${path}: ${probeError ?? shortReason(error)}`);
		this.#armRecheck();
	}

	#armRecheck(): void {
		const {timers} = this.#context;
		if (timers.has(this.#recheckTimer)) return;
		timers.every(this.#recheckTimer, dirRecheckMs, () => {
			void this.#recheck();
		});
	}

	async #recheck(): Promise<void> {
		const {faults, timers} = this.#context;
		const {path, fault, files} = this.#dir;
		const exists = await stat(path).then(() => true, () => false);
		if (!exists) {
			// Gone meanwhile: making it again is the re-check.
			const made = await this.#dir.remake().then(() => undefined, (error: unknown) => errnoReason(error));
			if (made !== undefined) return;
		}

		const failed = await probe(path);
		if (failed !== undefined || !faults.has(fault)) {
			if (failed !== undefined) faults.raise(fault, `cannot write ${files} in ${path}: ${failed}`);
			return;
		}

		timers.clear(this.#recheckTimer);
		this.#epoch++;
		faults.clear(fault);
		this.#context.scheduleDispatch();
	}
}

/** Creates and removes a file in `dir`, as a log or an exit file would be made there; what went wrong, or undefined. */
async function probe(dir: string): Promise<string | undefined> {
	const path = join(dir, `.jobdeck-probe-${randomBytes(6).toString('hex')}`);
	try {
		const handle = await open(path, 'wx', 0o600);
		try {
			// A byte too: a file system with inodes left but no blocks takes the file and refuses its data.
			await handle.write('x');
		} finally {
			await handle.close();
		}

		await unlink(path);
		return undefined;
	} catch (error) {
		await unlink(path).catch(() => undefined);
		return errnoReason(error);
	}
}

/** The job starter's words without the path it repeats (`could not open the log /x/job_7.txt: no space left on device`). */
function shortReason(error: string): string {
	const reason = /: ([^:]+)$/.exec(error)?.[1] ?? error;
	return reason.charAt(0).toLowerCase() + reason.slice(1);
}
