import {useListWindow} from '../hooks/use-list-window.js';
import type {WorkerRow} from '../state/pane-items.js';
import {useTheme, type Theme} from '../theme.js';
import {ListPane, type PaneProps} from './list-pane.js';
import type {Cell, Column} from './table.js';

type WorkersPaneProps = PaneProps & {
	readonly workers: readonly WorkerRow[];
};

export function WorkersPane({workers, ...pane}: WorkersPaneProps) {
	const theme = useTheme();
	const window = useListWindow(pane.selected, workers.length, pane.height - 3);
	const visible = workers.slice(window.from, window.to);
	const nameWidth = Math.min(16, Math.max(6, ...visible.map(row => row.worker.name.length)));
	// Only when a worker on screen has tags: a fleet without any keeps its room for the jobs.
	const showTags = visible.some(row => row.worker.tags !== undefined);
	const columns: Column[] = [
		{title: 'Worker', width: nameWidth},
		{title: 'State', width: 5},
		{title: 'Slots', width: 5, align: 'right'},
		{title: 'Done', width: 9, align: 'right'},
		...(showTags ? [{title: 'Tags', width: Math.min(16, Math.max(4, ...visible.map(row => row.worker.tags?.join(',').length ?? 0)))}] : []),
		{title: 'Jobs'},
	];
	const rows = visible.map(row => ({key: row.worker.name, cells: workerCells(row, theme, showTags)}));
	return (
		<ListPane
			{...pane}
			title="1 Workers"
			length={workers.length}
			windowFrom={window.from}
			columns={columns}
			rows={rows}
			emptyText={pane.filter ? 'no worker matches' : 'none yet: w adds workers'}
		/>
	);
}

const stateLabel = {idle: 'idle', busy: 'busy', draining: 'drain', offline: 'offline'} as const;

function workerCells({worker, state, runs}: WorkerRow, theme: Theme, showTags: boolean): Cell[] {
	const stateColor = {idle: theme.success, busy: theme.busy, draining: theme.warning, offline: theme.failure}[state];
	return [
		{text: worker.name, bold: true},
		{text: stateLabel[state], color: stateColor},
		{text: `${runs.length}/${worker.slots}`},
		{text: `${worker.jobsDone}✓ ${worker.jobsFailed}✗`, color: worker.jobsFailed > 0 ? theme.failure : undefined},
		...(showTags ? [{text: worker.tags?.join(',') ?? '—', dim: !worker.tags}] : []),
		{text: runs.length === 0 ? '—' : runs.map(run => `#${run.id}`).join(' '), dim: runs.length === 0},
	];
}
