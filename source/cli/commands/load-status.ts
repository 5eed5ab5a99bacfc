import {readFile} from 'node:fs/promises';
import {UserError} from '../../core/user-error.js';
import {parseStatus, parseStatusText} from '../../engine/status-import.js';
import {withScheduler} from '../connect.js';

export async function loadStatus(dataDir: string, file: string): Promise<void> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		throw new UserError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}

	let status: unknown;
	let summary: string;
	try {
		status = parseStatusText(text);
		// Read here too, so that a file of the wrong shape is refused before the scheduler is asked, and
		// to say what was in it. The scheduler reads it again and checks every job and worker.
		const imported = parseStatus(status, process.cwd());
		const rerun = imported.requeuedRunning > 0 ? ` (${imported.requeuedRunning} of them were running there and will run again)` : '';
		summary = `${imported.workers.length} worker(s), ${imported.jobs.length} job(s) queued${rerun}`;
	} catch (error) {
		if (error instanceof UserError) throw new UserError(`${file}: ${error.message}`);
		throw error;
	}

	await withScheduler(dataDir, async scheduler => scheduler.loadStatus(status, process.cwd()));
	console.log(`loaded ${file}: ${summary}`);
}
