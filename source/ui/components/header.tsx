import {Box, Text} from 'ink';
import type {SchedulerModel} from '../state/scheduler-model.js';
import type {Progress} from '../state/progress.js';
import type {WorkerState} from '../../core/model.js';
import {formatCount, formatDuration} from '../format.js';
import {useTheme} from '../theme.js';

type HeaderProps = {
	readonly model: SchedulerModel;
	readonly workerStates: Readonly<Record<WorkerState, number>>;
	readonly progress: Progress;
	readonly width: number;
};

export function Header({model, workerStates, progress, width}: HeaderProps) {
	const theme = useTheme();
	const saveFault = model.faults.find(fault => fault.kind === 'save');
	// No log or no exit file can be made: nothing is handed out until a re-check can.
	const pausingFault = model.faults.find(fault => fault.kind === 'logs' || fault.kind === 'exit-files');
	// A scheduler out of reach: what the screen shows is as it was then, and says so.
	const state = model.lost
		? {text: `✕ scheduler ${model.lost.unresponsive ? 'not answering' : 'gone'} · stale since ${new Date(model.lost.at).toTimeString().slice(0, 8)} · reconnecting…`, color: theme.failure}
		: model.stopping
			? {text: '■ stopping', color: theme.failure}
			: saveFault
				? {text: `✕ not saving since ${new Date(saveFault.since).toTimeString().slice(0, 8)}: ${saveFault.message}`, color: theme.failure}
				: pausingFault
					? {text: `‖ paused: ${pausingFault.message}`, color: theme.failure}
					: model.paused
						? {text: '‖ paused', color: theme.warning}
						: {text: '● running', color: theme.success};
	const percent = `${Math.floor(progress.fraction * 100)}%`.padStart(4);
	const rate = progress.jobsPerMinute === undefined ? '' : `  ${progress.jobsPerMinute.toFixed(progress.jobsPerMinute < 10 ? 1 : 0)} jobs/min`;
	const eta = progress.etaMs === undefined ? '' : `  ETA ${formatDuration(progress.etaMs)}`;
	const tail = `${percent}  ${formatCount(progress.finished)}/${formatCount(progress.total)} this session${rate}${eta}`;
	const barWidth = Math.max(10, Math.min(50, width - tail.length - 3));
	const filled = Math.round(progress.fraction * barWidth);
	return (
		<Box flexDirection="column" width={width}>
			<Text wrap="truncate-end">
				<Text bold color={theme.accent}>
					{' jobdeck '}
				</Text>
				<Text bold color={state.color}>
					{state.text}
				</Text>
				<Text dimColor>{`  ${model.dataDir}`}</Text>
			</Text>
			<Text wrap="truncate-end">
				{' workers '}
				<Text color={theme.success}>{workerStates.idle} idle</Text>
				{' · '}
				<Text color={theme.busy}>{workerStates.busy} busy</Text>
				{' · '}
				<Text color={theme.warning}>{workerStates.draining} draining</Text>
				{workerStates.offline > 0 && (
					<>
						{' · '}
						<Text bold color={theme.failure}>
							{workerStates.offline} offline
						</Text>
					</>
				)}
				{'   queued '}
				<Text bold>{formatCount(model.queueLength)}</Text>
				{'  running '}
				<Text bold>{formatCount(model.running.size)}</Text>
				{'  done '}
				<Text bold color={theme.success}>
					{formatCount(model.totals.done)}
				</Text>
				{'  failed '}
				<Text bold color={model.totals.failed > 0 ? theme.failure : undefined}>
					{formatCount(model.totals.failed)}
				</Text>
			</Text>
			<Text wrap="truncate-end">
				{' '}
				<Text color={theme.accent}>{'█'.repeat(filled)}</Text>
				<Text dimColor>{'░'.repeat(barWidth - filled)}</Text>
				{` ${tail}`}
			</Text>
		</Box>
	);
}
