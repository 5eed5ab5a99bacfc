import type {JobRun} from '../../core/model.js';
import {useListWindow} from '../hooks/use-list-window.js';
import {useLastLines} from '../hooks/use-last-lines.js';
import {formatDuration} from '../format.js';
import {useTheme} from '../theme.js';
import {ListPane, type PaneProps} from './list-pane.js';
import type {Column} from './table.js';

type RunningPaneProps = PaneProps & {
	readonly runs: readonly JobRun[];
	readonly now: number;
};

export function RunningPane({runs, now, ...pane}: RunningPaneProps) {
	const theme = useTheme();
	const window = useListWindow(pane.selected, runs.length, pane.height - 3);
	const visible = runs.slice(window.from, window.to);
	// Only the rows on screen read their logs.
	const lastLines = useLastLines(visible.map(run => run.logFile));
	const workerWidth = Math.min(14, Math.max(6, ...visible.map(run => run.worker.length)));
	const columns: Column[] = [
		{title: 'Job', width: Math.max(3, String(visible.at(-1)?.id ?? 0).length + 1)},
		{title: 'Worker', width: workerWidth},
		{title: 'Elapsed', width: 7, align: 'right'},
		{title: 'Last output'},
	];
	const rows = visible.map(run => {
		const cancelling = run.cancelRequestedAt !== undefined;
		return {
			key: run.runId,
			cells: [
				{text: `#${run.id}`, bold: true},
				{text: run.worker},
				{text: formatDuration(now - run.startedAt), color: cancelling ? theme.warning : undefined},
				cancelling
					? {text: `${run.timedOut ? 'timed out, stopping' : 'cancelling'}… ${lastLines.get(run.logFile) ?? ''}`, color: theme.warning}
					: {text: lastLines.get(run.logFile) ?? '', dim: true},
			],
		};
	});
	return (
		<ListPane
			{...pane}
			title="3 Running"
			length={runs.length}
			windowFrom={window.from}
			columns={columns}
			rows={rows}
			emptyText={pane.filter ? 'no running job matches' : 'nothing running'}
		/>
	);
}
