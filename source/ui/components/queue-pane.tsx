import type {QueuedJob} from '../../core/model.js';
import {useListWindow} from '../hooks/use-list-window.js';
import {attemptNote, commandLine, formatDuration} from '../format.js';
import {ListPane, type PaneProps} from './list-pane.js';
import type {Column} from './table.js';

type QueuePaneProps = PaneProps & {
	readonly jobs: readonly QueuedJob[];
	readonly paused: boolean;
	readonly now: number;
	readonly waitReason: (job: QueuedJob) => string;
};

export function QueuePane({jobs, paused, now, waitReason, ...pane}: QueuePaneProps) {
	const window = useListWindow(pane.selected, jobs.length, pane.height - 3);
	const visible = jobs.slice(window.from, window.to);
	const lastId = visible.at(-1)?.id ?? 0;
	// Priority and needs only take room when a job on screen has them; the reason gets at most a third of the pane.
	const showPriority = visible.some(job => job.priority !== undefined);
	const showNeeds = visible.some(job => job.needs !== undefined);
	const reasons = visible.map(job => waitReason(job));
	const showWaited = pane.width >= 80;
	const columns: Column[] = [
		{title: 'Pos', width: Math.max(3, String(window.to).length), align: 'right'},
		{title: 'Job', width: Math.max(3, String(lastId).length + 1)},
		// How long a job waited matters less than why: a narrow pane gives its room to the reason.
		...(showWaited ? [{title: 'Waited', width: 6, align: 'right'} as const] : []),
		...(showPriority ? [{title: 'Prio', width: 4, align: 'right'} as const] : []),
		...(showNeeds ? [{title: 'Needs', width: Math.min(14, Math.max(5, ...visible.map(job => job.needs?.join(',').length ?? 0)))}] : []),
	];
	// The reason takes what the script can spare of its 12 columns; a narrow pane leaves it out (`status` has it).
	const spare = pane.width - 2 - columns.reduce((sum, column) => sum + (column.width ?? 0) + 1, 0) - 12;
	const whyWidth = Math.min(spare, Math.max(12, ...reasons.map(reason => reason.length)));
	if (whyWidth >= 12) columns.push({title: 'Why it waits', width: whyWidth});
	columns.push({title: 'Script and arguments'});
	const rows = visible.map((job, offset) => ({
		key: job.id,
		cells: [
			{text: String(window.from + offset + 1), dim: true},
			{text: `#${job.id}`, bold: true},
			...(showWaited ? [{text: formatDuration(now - job.queuedAt), dim: true}] : []),
			...(showPriority ? [{text: String(job.priority ?? 0), bold: job.priority !== undefined, dim: job.priority === undefined}] : []),
			...(showNeeds ? [{text: job.needs?.join(',') ?? '—', dim: !job.needs}] : []),
			...(whyWidth >= 12 ? [{text: reasons[offset]!, dim: true}] : []),
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
