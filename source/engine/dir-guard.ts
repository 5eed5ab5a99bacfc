import {randomBytes} from 'node:crypto';
import {mkdir, open, stat, unlink} from 'node:fs/promises';
import {join} from 'node:path';
import type {EngineContext} from './engine-context.js';
import {makeDirPrivate} from './private-dir.js';

// When the job starter cannot make a job's log, the fault is the scheduler's,
// not the job's: the job never started, goes back to the queue with no retry
// used (the run supervisor abandons the run), and here the log dir is seen to.
// A log dir that is gone is made again (0700, private). Any other trouble (no
// space, no inodes, no permission) pauses the handing out of jobs with a
// `logs` fault, until a re-check every `logRecheckMs` can create and remove a
// file there. This is not the user's pause: that one stays until `resume`;
// this one clears by itself.

export const logRecheckMs = 2000;
const recheckTimer = 'log-dir-recheck';

export class LogDirGuard {
	readonly #context: EngineContext;
	/** Goes up whenever the log dir was made again or its fault cleared: a log that failed before then says nothing of the dir now. */
	#epoch = 0;
	/** One look at the dir at a time: a burst of failed starts is one fault. */
	#looking: Promise<void> = Promise.resolve();

	constructor(context: EngineContext) {
		this.#context = context;
	}

	/** Taken when a job's start is asked for, and handed back to `logFailed` with its failure. */
	get epoch(): number {
		return this.#epoch;
	}

	/** The job starter could not open a log (`error`, its words); the run asked for it at `epoch`. */
	async logFailed(error: string, epoch: number): Promise<void> {
		const looked = this.#looking.then(async () => this.#look(error, epoch));
		this.#looking = looked.catch(() => undefined);
		return looked;
	}

	async #look(error: string, epoch: number): Promise<void> {
		const {logDir, faults, bus} = this.#context;
		// Made again or cleared since this run asked: its failure is old news.
		if (epoch !== this.#epoch || this.#context.isStopping()) return;
		const seen = await stat(logDir).catch((error_: unknown) => error_);
		if (seen instanceof Error && (seen as NodeJS.ErrnoException).code === 'ENOENT') {
			try {
				await mkdir(logDir, {recursive: true, mode: 0o700});
				await makeDirPrivate(logDir, 'log dir');
				this.#epoch++;
				bus.emit({type: 'error', message: `the log dir ${logDir} was gone: made it again; the jobs that could not start are queued again, no retry used`, at: Date.now()});
				return;
			} catch (error_) {
				faults.raise('logs', `cannot write logs in ${logDir}: it was gone and could not be made again: ${reasonOf(error_)}`);
				this.#armRecheck();
				return;
			}
		}

		const probeError = await probe(logDir);
		faults.raise('logs', `cannot write logs in ${logDir}: ${probeError ?? shortReason(error)}`);
		this.#armRecheck();
	}

	#armRecheck(): void {
		const {timers} = this.#context;
		if (timers.has(recheckTimer)) return;
		timers.every(recheckTimer, logRecheckMs, () => {
			void this.#recheck();
		});
	}

	async #recheck(): Promise<void> {
		const {logDir, faults, timers} = this.#context;
		const exists = await stat(logDir).then(() => true, () => false);
		if (!exists) {
			// Gone meanwhile: making it again is the re-check.
			const made = await mkdir(logDir, {recursive: true, mode: 0o700}).then(async () => makeDirPrivate(logDir, 'log dir')).then(() => undefined, (error: unknown) => reasonOf(error));
			if (made !== undefined) return;
		}

		const failed = await probe(logDir);
		if (failed !== undefined || !faults.has('logs')) {
			if (failed !== undefined) faults.raise('logs', `cannot write logs in ${logDir}: ${failed}`);
			return;
		}

		timers.clear(recheckTimer);
		this.#epoch++;
		faults.clear('logs');
		this.#context.scheduleDispatch();
	}
}

/** Creates and removes a file in `dir`, as a log would be made there; what went wrong, or undefined. */
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
		return reasonOf(error);
	}
}

/** `no space left on device` from node's `ENOSPC: no space left on device, open '…'`. */
function reasonOf(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
}

/** The job starter's words without the path it repeats (`could not open the log /x/job_7.txt: No space left on device`). */
function shortReason(error: string): string {
	const reason = /: ([^:]+)$/.exec(error)?.[1] ?? error;
	return reason.charAt(0).toLowerCase() + reason.slice(1);
}
