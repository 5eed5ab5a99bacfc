import {commandLine} from '../core/command-line.js';
import type {FinishedRun} from '../core/model.js';
import {formatDuration} from '../core/format-duration.js';
import type {SchedulerEvent} from '../core/scheduler.js';

// Plain-text renderings shared by `status` and the headless event lines.

export function formatExit(run: Pick<FinishedRun, 'exitCode' | 'signal' | 'outcome'>): string {
	if (run.signal) return run.outcome === 'cancelled' ? `cancelled (${run.signal})` : run.signal;
	if (run.exitCode === null) return run.outcome === 'cancelled' ? 'cancelled' : 'lost (no exit status)';
	return run.outcome === 'cancelled' ? `cancelled (exit ${run.exitCode})` : `exit ${run.exitCode}`;
}

export function formatEvent(event: SchedulerEvent): string[] {
	switch (event.type) {
		case 'jobs-queued': {
			if (event.jobs.length > 3) return [`queued ${event.jobs.length} jobs (${event.jobs[0]!.id}…${event.jobs.at(-1)!.id})`];
			return event.jobs.map(job => `queued job ${job.id}: ${commandLine(job)}`);
		}

		case 'jobs-removed': {
			return [`removed job${event.ids.length === 1 ? '' : 's'} ${event.ids.join(' ')} from the queue`];
		}

		case 'job-started': {
			return [`started job ${event.run.id} on ${event.run.worker} (JOB_ID ${event.run.runId}): ${commandLine(event.run)}`];
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
