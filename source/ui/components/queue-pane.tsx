import type {QueuedJob} from '../../core/model.js';
import {useListWindow} from '../hooks/use-list-window.js';
import {attemptNote, commandLine, formatDuration} from '../format.js';
import {ListPane, type PaneProps} from './list-pane.js';
import type {Column} from './table.js';

type QueuePaneProps = PaneProps & {
	readonly jobs: readonly QueuedJob[];
	readonly paused: boolean;
	readonly now: number;
};

export function QueuePane({jobs, paused, now, ...pane}: QueuePaneProps) {
	const window = useListWindow(pane.selected, jobs.length, pane.height - 3);
	const visible = jobs.slice(window.from, window.to);
	const lastId = visible.at(-1)?.id ?? 0;
	const columns: Column[] = [
		{title: 'Pos', width: Math.max(3, String(window.to).length), align: 'right'},
		{title: 'Job', width: Math.max(3, String(lastId).length + 1)},
		{title: 'Waited', width: 6, align: 'right'},
		{title: 'Script and arguments'},
	];
	const rows = visible.map((job, offset) => ({
		key: job.id,
		cells: [
			{text: String(window.from + offset + 1), dim: true},
			{text: `#${job.id}`, bold: true},
			{text: formatDuration(now - job.queuedAt), dim: true},
			{text: [attemptNote(job, now), commandLine(job)].filter(Boolean).join('  ')},
		],
	}));
	const title = paused ? '2 Queue (paused)' : '2 Queue';
	return (
		<ListPane
			{...pane}
			title={title}
			length={jobs.length}
			windowFrom={window.from}
			columns={columns}
			rows={rows}
			emptyText={pane.filter ? 'no queued job matches' : 'empty: a adds a job'}
		/>
	);
}
