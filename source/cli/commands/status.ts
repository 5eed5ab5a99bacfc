import {UserError} from '../../core/user-error.js';
import {statusJson, type StatusJson} from '../../core/status-json.js';
import {formatDuration} from '../../core/format-duration.js';
import {commandLine} from '../../core/command-line.js';
import {withSchedulerOrSavedState} from '../connect.js';
import {formatExit, formatFault} from '../plain-text.js';

const queueShown = 20;

export async function status(dataDir: string, json: boolean, finishedCount: string): Promise<void> {
	const count = parseFinishedCount(finishedCount);
	const view = await withSchedulerOrSavedState(dataDir, async scheduler => {
		const snapshot = await scheduler.snapshot();
		const finished = count === 0 ? []
			: count !== 'all' && count <= snapshot.finished.length ? snapshot.finished.slice(-count)
				: await scheduler.finishedRuns({newest: count});
		return statusJson({...snapshot, finished});
	});
	process.stdout.write(json ? JSON.stringify(view, null, 2) + '\n' : formatStatus(view, Date.now()));
}

function parseFinishedCount(text: string): number | 'all' {
	if (text === 'all') return 'all';
	if (!/^\d+$/.test(text)) throw new UserError(`--finished takes a number or "all", not ${JSON.stringify(text)}`);
	return Number(text);
}

function formatStatus(view: StatusJson, now: number): string {
	const {scheduler} = view;
	const lines = [
		`scheduler: ${scheduler.running ? (scheduler.paused ? 'running, paused' : 'running') : 'stopped (showing the saved state)'} — ${scheduler.dataDir}`,
		...scheduler.faults.map(fault => `${formatFault(fault)} (since ${new Date(fault.since).toTimeString().slice(0, 8)})`),
		'',
		`workers (${view.workers.length})`,
		...table(['NAME', 'STATE', 'SLOTS', 'RUNNING', 'DONE', 'FAILED', 'TAGS'], view.workers.map(worker => [
			worker.name,
			worker.state,
			`${worker.runningJobs.length}/${worker.slots}`,
			worker.runningJobs.join(',') || '-',
			String(worker.jobsDone),
			String(worker.jobsFailed),
			worker.tags?.join(',') ?? '-',
		])),
		'',
		`queue (${view.queue.length})`,
		...table(['ID', 'WAITING', 'PRIO', 'NEEDS', 'AFTER', 'WHY', 'COMMAND'], view.queue.slice(0, queueShown).map(job => [
			String(job.id),
			formatDuration(now - job.queuedAt),
			String(job.priority ?? 0),
			job.needs?.join(',') ?? '-',
			job.after?.join(',') ?? '-',
			job.waiting,
			commandLine(job),
		])),
		...(view.queue.length > queueShown ? [`  … and ${view.queue.length - queueShown} more`] : []),
		'',
		`running (${view.running.length})`,
		...table(['ID', 'JOB_ID', 'WORKER', 'PID', 'ELAPSED', 'COMMAND'], view.running.map(run => [
			String(run.id),
			String(run.runId),
			run.worker,
			run.pid === undefined ? '-' : String(run.pid),
			formatDuration(now - run.startedAt),
			commandLine(run),
		])),
		'',
		`recently finished (${view.finished.length})`,
		...table(['ID', 'JOB_ID', 'WORKER', 'RESULT', 'TOOK', 'COMMAND'], view.finished.map(run => [
			String(run.id),
			String(run.runId),
			run.worker,
			formatExit(run),
			formatDuration(run.endedAt - run.startedAt),
			commandLine(run),
		])),
	];
	return lines.join('\n') + '\n';
}

function table(header: string[], rows: string[][]): string[] {
	if (rows.length === 0) return ['  (none)'];
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]?.length ?? 0)));
	const format = (row: string[]) => '  ' + row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join('  ');
	return [format(header), ...rows.map(format)];
}
