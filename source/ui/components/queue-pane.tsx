import {useListWindow} from '../hooks/use-list-window.js';
import {queueJobAt, type QueueRows} from '../state/queue-rows.js';
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
	const lastId = visible.findLast(job => job !== undefined)?.id ?? 0;
	const columns: Column[] = [
		{title: 'Pos', width: Math.max(3, String(window.to).length), align: 'right'},
		{title: 'Job', width: Math.max(3, String(lastId).length + 1)},
		{title: 'Waited', width: 6, align: 'right'},
		{title: 'Script and arguments'},
	];
	const rows = visible.map((job, offset) => job === undefined
		// Not here yet: the scheduler is sending that stretch.
		? {key: `position ${window.from + offset}`, cells: [{text: String(window.from + offset + 1), dim: true}, {text: '…', dim: true}, {text: ''}, {text: ''}]}
		: {
				key: job.id,
				cells: [
					{text: String(window.from + offset + 1), dim: true},
					{text: `#${job.id}`, bold: true},
					{text: formatDuration(now - job.queuedAt), dim: true},
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
