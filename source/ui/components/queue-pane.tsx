import type {WaitingJob} from '../../core/scheduler.js';
import {useListWindow} from '../hooks/use-list-window.js';
import {queueJobAt, queueShowsWaited, type QueueRows} from '../state/queue-rows.js';
import {attemptNote, commandLine, formatDuration} from '../format.js';
import {ListPane, type PaneProps} from './list-pane.js';
import type {Column} from './table.js';

type QueuePaneProps = PaneProps & {
	/** The stretch of the queue the scheduler sent, around the selection. */
	readonly jobs: QueueRows;
	readonly paused: boolean;
	readonly now: number;
};

export function QueuePane({jobs, paused, now, ...pane}: QueuePaneProps) {
	const window = useListWindow(pane.selected, jobs.total, pane.height - 3);
	const visible = Array.from({length: window.to - window.from}, (_, offset) => queueJobAt(jobs, window.from + offset));
	const shown = visible.filter((job): job is WaitingJob => job !== undefined);
	const lastId = shown.at(-1)?.id ?? 0;
	// Priority and needs only take room when a job on screen has them; the reason gets at most a third of the pane.
	const showPriority = shown.some(job => job.priority !== undefined);
	const showNeeds = shown.some(job => job.needs !== undefined);
	const showWaited = queueShowsWaited(pane.width);
	const columns: Column[] = [
		{title: 'Pos', width: Math.max(3, String(window.to).length), align: 'right'},
		{title: 'Job', width: Math.max(3, String(lastId).length + 1)},
		...(showWaited ? [{title: 'Waited', width: 6, align: 'right'} as const] : []),
		...(showPriority ? [{title: 'Prio', width: 4, align: 'right'} as const] : []),
		...(showNeeds ? [{title: 'Needs', width: Math.min(14, Math.max(5, ...shown.map(job => job.needs?.join(',').length ?? 0)))}] : []),
	];
	// The reason takes what the script can spare of its 12 columns; a narrow pane leaves it out (`status` has it).
	const spare = pane.width - 2 - columns.reduce((sum, column) => sum + (column.width ?? 0) + 1, 0) - 12;
	const whyWidth = Math.min(spare, Math.max(12, ...shown.map(job => job.waiting.length)));
	if (whyWidth >= 12) columns.push({title: 'Why it waits', width: whyWidth});
	columns.push({title: 'Script and arguments'});
	const rows = visible.map((job, offset) => job === undefined
		// Not here yet: the scheduler is sending that stretch.
		? {key: `position ${window.from + offset}`, cells: [{text: String(window.from + offset + 1), dim: true}, {text: '…', dim: true}, ...columns.slice(2).map(() => ({text: ''}))]}
		: {
				key: job.id,
				cells: [
					{text: String(window.from + offset + 1), dim: true},
					{text: `#${job.id}`, bold: true},
					...(showWaited ? [{text: formatDuration(now - job.queuedAt), dim: true}] : []),
					...(showPriority ? [{text: String(job.priority ?? 0), bold: job.priority !== undefined, dim: job.priority === undefined}] : []),
					...(showNeeds ? [{text: job.needs?.join(',') ?? '—', dim: !job.needs}] : []),
					...(whyWidth >= 12 ? [{text: job.waiting, dim: true}] : []),
					{text: [attemptNote(job, now), commandLine(job)].filter(Boolean).join('  ')},
				],
			});
	const title = paused ? '2 Queue (paused)' : '2 Queue';
	return (
		<ListPane
			{...pane}
			title={title}
			length={jobs.total}
			windowFrom={window.from}
			columns={columns}
			rows={rows}
			emptyText={pane.filter ? 'no queued job matches' : 'empty: a adds a job'}
		/>
	);
}
