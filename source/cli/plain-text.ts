import {commandLine} from '../core/command-line.js';
import type {FinishedRun} from '../core/model.js';
import {formatDuration} from '../core/format-duration.js';
import type {SchedulerEvent, SchedulerFault} from '../core/scheduler.js';

// Plain-text renderings shared by `status` and the headless event lines.

export function formatExit(run: Pick<FinishedRun, 'exitCode' | 'signal' | 'outcome' | 'requeued' | 'dependencyFailed'>): string {
	if (run.outcome === 'dependency-failed') return `dependency failed: job ${run.dependencyFailed} did not succeed, so this one never ran`;
	const how = run.signal ?? (run.exitCode === null ? undefined : `exit ${run.exitCode}`);
	let text: string;
	if (run.outcome === 'cancelled' || run.outcome === 'timed-out') {
		const word = run.outcome === 'cancelled' ? 'cancelled' : 'timed out';
		text = how ? `${word} (${how})` : word;
	} else {
		text = how ?? 'lost (no exit status)';
	}

	if (run.requeued === 'retry') return `${text}, retrying`;
	if (run.requeued === 'worker-unreachable') return `${text}, worker unreachable: queued again`;
	return text;
}

/** A fault of the scheduler's in one line: `paused: cannot write logs in DIR: no space left on device`. */
export function formatFault(fault: SchedulerFault): string {
	return fault.kind === 'save' ? `not saving: ${fault.message}; what is shown is what the disk holds` : `paused: ${fault.message}; jobs start again once a file can be made there`;
}

const clearedWords: Readonly<Record<SchedulerFault['kind'], string>> = {
	logs: 'resumed: the log dir can be written again',
	'exit-files': 'resumed: the exit files\' dir (runs/) can be written again',
	save: 'the state is saved again',
};

/** An event as `start --headless` and `jobdeck events` print it: timestamped lines, or one JSON line. */
export function eventLines(event: SchedulerEvent, json: boolean): string[] {
	if (json) return [JSON.stringify(event)];
	const time = new Date(event.at).toISOString();
	return formatEvent(event).map(line => `${time} ${line}`);
}

export function formatEvent(event: SchedulerEvent): string[] {
	switch (event.type) {
		case 'jobs-queued': {
			const [first] = event.jobs;
			const last = event.jobs.at(-1);
			if (first && last && event.jobs.length > 3) return [`queued ${event.jobs.length} jobs (${first.id}…${last.id})`];
			return event.jobs.map(job => `queued job ${job.id}: ${commandLine(job)}`);
		}

		case 'jobs-updated': {
			return event.jobs.map(job => `job ${job.id} now has priority ${job.priority ?? 0}`);
		}

		case 'jobs-removed': {
			return [`removed job${event.ids.length === 1 ? '' : 's'} ${event.ids.join(' ')} from the queue`];
		}

		case 'job-started': {
			return [`started job ${event.run.id} on ${event.run.worker} (JOB_ID ${event.run.runId}): ${commandLine(event.run)}`];
		}

		case 'job-finished': {
			const {run} = event;
			if (run.outcome === 'dependency-failed') return [`job ${run.id} will not run: job ${run.dependencyFailed} did not succeed (dependency-failed)`];
			return [`finished job ${run.id} on ${run.worker} (JOB_ID ${run.runId}): ${formatExit(run)} after ${formatDuration(run.endedAt - run.startedAt)}`];
		}

		case 'run-abandoned': {
			return [`job ${event.run.id} (JOB_ID ${event.run.runId}) did not start: ${event.reason}; queued again, no retry used`];
		}

		case 'fault': {
			return [formatFault(event.fault)];
		}

		case 'fault-cleared': {
			return [clearedWords[event.kind]];
		}

		case 'cancel-requested': {
			return [`${event.timedOut ? 'timed out' : 'cancelling'}: job ${event.id} (JOB_ID ${event.runId})`];
		}

		case 'workers-added': {
			return event.workers.map(worker => `added worker ${worker.name} (${worker.slots} slot${worker.slots === 1 ? '' : 's'}${worker.tags ? `; tags ${worker.tags.join(',')}` : ''})`);
		}

		case 'worker-updated': {
			return [];
		}

		case 'worker-removed': {
			return [`removed worker ${event.name}`];
		}

		case 'worker-offline': {
			return [`worker ${event.name} is offline: ${event.runs} runs in a row ended with exit ${event.exitCode}; next check in ${formatDuration(event.nextCheckAt - event.at)}`];
		}

		case 'worker-online': {
			const how = {answered: 'it answers again', probation: 'it gets one job to prove itself', enabled: 'enabled by hand'}[event.how];
			return [`worker ${event.name} is back online: ${how}`];
		}

		case 'worker-recheck-failed': {
			return [`worker ${event.name} is still offline (${event.message}); next check in ${formatDuration(event.nextCheckAt - event.at)}`];
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

		case 'queue-changed': {
			return [`${event.length} job${event.length === 1 ? '' : 's'} queued`];
		}

		case 'connection-lost': {
			return [`lost the scheduler: ${event.message}`];
		}

		case 'connection-restored': {
			return ['the scheduler answers again'];
		}
	}
}
