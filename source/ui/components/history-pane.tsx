import type {FinishedRun} from '../../core/model.js';
import {useListWindow} from '../hooks/use-list-window.js';
import {commandLine, formatDuration} from '../format.js';
import {useTheme, type Theme} from '../theme.js';
import {ListPane, type PaneProps} from './list-pane.js';
import type {Cell, Column} from './table.js';

type HistoryPaneProps = PaneProps & {
	/** Newest first. */
	readonly runs: readonly FinishedRun[];
};

export function HistoryPane({runs, ...pane}: HistoryPaneProps) {
	const theme = useTheme();
	const window = useListWindow(pane.selected, runs.length, pane.height - 3);
	const visible = runs.slice(window.from, window.to);
	const columns: Column[] = [
		{title: 'Job', width: Math.max(3, ...visible.map(run => String(run.id).length + 1))},
		{title: 'Result', width: 9},
		{title: 'Took', width: 6, align: 'right'},
		{title: 'Worker', width: Math.min(14, Math.max(6, ...visible.map(run => run.worker.length)))},
		{title: 'Script and arguments'},
	];
	const rows = visible.map(run => ({key: run.runId, cells: historyCells(run, theme)}));
	return (
		<ListPane
			{...pane}
			title="4 History"
			length={runs.length}
			windowFrom={window.from}
			columns={columns}
			rows={rows}
			emptyText={pane.filter ? 'no finished job matches' : 'no job has finished yet'}
		/>
	);
}

/** ✓ exit 0, ✗ exit 3, ✗ SIGKILL, ⊘ SIGTERM (cancelled), ⧗ SIGTERM (timed out), ? lost, ⤫ never ran (after job N failed); ↻ when the job went back to the queue. */
export function describeResult(run: FinishedRun): string {
	if (run.outcome === 'dependency-failed') return `⤫ job ${run.dependencyFailed} failed`;
	const how = run.signal ?? (run.exitCode === null ? 'lost' : `exit ${run.exitCode}`);
	const mark = {succeeded: '✓', failed: '✗', cancelled: '⊘', 'timed-out': '⧗', lost: '?', 'dependency-failed': '⤫'}[run.outcome];
	const again = run.requeued === 'retry' ? ' ↻ retry' : (run.requeued === 'worker-unreachable' ? ' ↻ unreachable' : '');
	return `${mark} ${how}${run.outcome === 'timed-out' ? ' timeout' : ''}${again}`;
}

function historyCells(run: FinishedRun, theme: Theme): Cell[] {
	const failed = run.outcome !== 'succeeded';
	const color = {succeeded: theme.success, failed: theme.failure, cancelled: theme.warning, 'timed-out': theme.failure, lost: theme.failure, 'dependency-failed': theme.warning}[run.outcome];
	return [
		{text: `#${run.id}`, bold: true},
		{text: describeResult(run), color, bold: failed},
		{text: formatDuration(run.endedAt - run.startedAt), dim: true},
		{text: run.worker},
		{text: commandLine(run), color: failed ? theme.failure : undefined},
	];
}
