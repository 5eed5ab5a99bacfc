import type {FinishedRun, QueuedJob} from '../core/model.js';
import type {SchedulerEvent} from '../core/scheduler.js';

// Plain-text renderings shared by `status` and the headless event lines.

export function formatCommand(job: Pick<QueuedJob, 'script' | 'args' | 'cwd'>): string {
	const script = job.script.startsWith(job.cwd + '/') ? `./${job.script.slice(job.cwd.length + 1)}` : job.script;
	return [script, ...job.args].map(quoteForDisplay).join(' ');
}

/** Quotes an argument for reading only; nothing ever passes it to a shell. */
function quoteForDisplay(arg: string): string {
	if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
	return `'${arg.replaceAll('\'', '\'\\\'\'').replaceAll('\n', '\\n')}'`;
}

export function formatDuration(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	if (seconds < 60) return `${seconds}s`;
	if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
	if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}m`;
	return `${Math.floor(seconds / 86_400)}d${String(Math.floor(seconds / 3600) % 24).padStart(2, '0')}h`;
}

export function formatExit(run: Pick<FinishedRun, 'exitCode' | 'signal' | 'outcome'>): string {
	if (run.signal) return run.outcome === 'cancelled' ? `cancelled (${run.signal})` : run.signal;
	if (run.exitCode === null) return run.outcome === 'cancelled' ? 'cancelled' : 'lost (no exit status)';
	return run.outcome === 'cancelled' ? `cancelled (exit ${run.exitCode})` : `exit ${run.exitCode}`;
}

export function formatEvent(event: SchedulerEvent): string[] {
	switch (event.type) {
		case 'jobs-queued': {
			if (event.jobs.length > 3) return [`queued ${event.jobs.length} jobs (${event.jobs[0]!.id}…${event.jobs.at(-1)!.id})`];
			return event.jobs.map(job => `queued job ${job.id}: ${formatCommand(job)}`);
		}

		case 'jobs-removed': {
			return [`removed job${event.ids.length === 1 ? '' : 's'} ${event.ids.join(' ')} from the queue`];
		}

		case 'job-started': {
			return [`started job ${event.run.id} on ${event.run.worker} (JOB_ID ${event.run.runId}): ${formatCommand(event.run)}`];
		}

		case 'job-finished': {
			const {run} = event;
			return [`finished job ${run.id} on ${run.worker} (JOB_ID ${run.runId}): ${formatExit(run)} after ${formatDuration(run.endedAt - run.startedAt)}`];
		}

		case 'cancel-requested': {
			return [`cancelling job ${event.id} (JOB_ID ${event.runId})`];
		}

		case 'workers-added': {
			return event.workers.map(worker => `added worker ${worker.name} (${worker.slots} slot${worker.slots === 1 ? '' : 's'})`);
		}

		case 'worker-updated': {
			return [];
		}

		case 'worker-removed': {
			return [`removed worker ${event.name}`];
		}

		case 'paused': {
			return ['paused: no new job starts'];
		}

		case 'resumed': {
			return ['resumed'];
		}

		case 'state-loaded': {
			return ['loaded a saved status'];
		}

		case 'stopping': {
			return ['stopping; running jobs keep running'];
		}

		case 'error': {
			return [`error: ${event.message}`];
		}
	}
}
