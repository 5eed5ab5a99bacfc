import {createReadStream} from 'node:fs';
import {open} from 'node:fs/promises';
import {resolve} from 'node:path';
import {connectToScheduler, SchedulerNotRunningError, type SchedulerClient} from '../../control/control-client.js';
import type {FinishedRun, JobRun} from '../../core/model.js';
import {UserError} from '../../core/user-error.js';
import {parseJobId} from '../../core/validation.js';

const followPollMs = 100;
const chunkBytes = 64 * 1024;

export async function logs(dataDir: string, idText: string, follow: boolean): Promise<void> {
	const id = parseJobId(idText);
	let scheduler: SchedulerClient | undefined;
	try {
		scheduler = await connectToScheduler(resolve(dataDir));
	} catch (error) {
		if (!(error instanceof SchedulerNotRunningError)) throw error;
	}

	try {
		const run = await findLatestRun(dataDir, id, scheduler);
		if ('outcome' in run && run.outcome === 'dependency-failed') throw new UserError(`job ${id} never ran (job ${run.dependencyFailed} it runs after did not succeed), so it has no output`);
		const reader = watchReader();
		if (!follow || !scheduler || !('pid' in run) || 'endedAt' in run) {
			await printFile(run.logFile, reader);
			return;
		}

		await followRun(scheduler, run as JobRun, reader);
	} finally {
		scheduler?.close();
	}
}

async function findLatestRun(dataDir: string, id: number, scheduler: SchedulerClient | undefined): Promise<JobRun | FinishedRun> {
	const snapshot = scheduler ? await scheduler.snapshot() : await (await import('../../engine/offline-snapshot.js')).readOfflineSnapshot(dataDir, 1000);
	const run = snapshot.runningJobs.find(candidate => candidate.id === id) ?? snapshot.finished.findLast(candidate => candidate.id === id);
	if (run) return run;
	if (snapshot.queue.some(job => job.id === id)) throw new UserError(`job ${id} is queued and has no output yet`);
	const {readHistoryFrom} = await import('../../engine/state/history-file.js');
	const {stateFiles} = await import('../../engine/state/state-store.js');
	const older = (await readHistoryFrom(stateFiles(resolve(dataDir)).history, 0)).findLast(candidate => candidate.id === id);
	if (older) return older;
	throw new UserError(`there is no job ${id}`);
}

type Reader = {
	gone: boolean;
	readonly whenGone: Promise<void>;
};

/**
 * Notes when stdout's reader goes away (`jobdeck logs ID | head`, a pager
 * quit before the end): the rest of the log has nowhere to go, which is no
 * error. It was a stack trace.
 */
function watchReader(): Reader {
	let resolveGone: () => void;
	const reader: Reader = {
		gone: false,
		whenGone: new Promise(resolve => {
			resolveGone = resolve;
		}),
	};
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code !== 'EPIPE' && !reader.gone) throw error;
		reader.gone = true;
		resolveGone();
	});
	return reader;
}

async function printFile(path: string, reader: Reader): Promise<void> {
	const stream = createReadStream(path);
	const printed = new Promise<void>((resolvePrinted, reject) => {
		stream.on('error', (error: NodeJS.ErrnoException) => {
			reject(error.code === 'ENOENT' ? new UserError(`log file ${path} does not exist (yet)`) : error);
		});
		stream.on('end', resolvePrinted);
		stream.pipe(process.stdout, {end: false});
	});
	await Promise.race([printed, reader.whenGone]);
	stream.destroy();
}

/** Prints the log as it grows, until the job's run finishes, then what it wrote last. */
async function followRun(scheduler: SchedulerClient, run: JobRun, reader: Reader): Promise<void> {
	let finished = false;
	let disconnected = false;
	scheduler.subscribe(events => {
		if (events.some(event => event.type === 'job-finished' && event.run.runId === run.runId)) finished = true;
	});
	scheduler.onDisconnect(() => {
		disconnected = true;
	});
	// The run may have ended between the snapshot and the subscription.
	const current = await scheduler.snapshot();
	if (!current.runningJobs.some(candidate => candidate.runId === run.runId)) finished = true;

	const handle = await open(run.logFile, 'r');
	try {
		let offset = 0;
		for (;;) {
			const ended = finished || disconnected;
			let bytesRead: number;
			do {
				// A buffer of its own each time: stdout may still be writing the last one.
				const buffer = Buffer.allocUnsafe(chunkBytes);
				({bytesRead} = await handle.read(buffer, 0, chunkBytes, offset));
				offset += bytesRead;
				if (bytesRead > 0) await writeOut(buffer.subarray(0, bytesRead), reader);
				if (reader.gone) return;
			} while (bytesRead > 0);
			if (ended) return;
			await new Promise(resolveWait => {
				setTimeout(resolveWait, followPollMs);
			});
		}
	} finally {
		await handle.close();
	}
}

/**
 * Writes to stdout and waits while the reader is behind: a log of gigabytes
 * piped into a pager that waits for its user would otherwise pile up in
 * memory (a 256 MB log reached 315 MB of RSS).
 */
async function writeOut(chunk: Buffer, reader: Reader): Promise<void> {
	if (process.stdout.write(chunk)) return;
	let onDrain: () => void;
	const drained = new Promise<void>(resolveDrained => {
		onDrain = resolveDrained;
		process.stdout.once('drain', onDrain);
	});
	await Promise.race([drained, reader.whenGone]);
	process.stdout.off('drain', onDrain!);
}
