import {useEffect, useMemo, useReducer} from 'react';
import {Box, Text} from 'ink';
import type {Scheduler} from '../core/scheduler.js';
import {runCommand, formOnToggle, selectedIndex, selectedItems} from './commands.js';
import {AddJobForm} from './components/add-job-form.js';
import {AddWorkerForm} from './components/add-worker-form.js';
import {ConfirmDialog} from './components/confirm-dialog.js';
import {Deck} from './components/deck.js';
import {Footer} from './components/footer.js';
import {Header} from './components/header.js';
import {HelpOverlay} from './components/help-overlay.js';
import {describeResult} from './components/history-pane.js';
import {formatDuration} from './format.js';
import {useKeymap} from './hooks/use-keymap.js';
import {useLogTail} from './hooks/use-log-tail.js';
import {useNow} from './hooks/use-now.js';
import {useSchedulerState} from './hooks/use-scheduler-state.js';
import {TerminalSizeProvider, useTerminalSize, type TerminalSize} from './hooks/use-terminal-size.js';
import {footerHints} from './state/keymap.js';
import {computeLayout} from './state/layout.js';
import {countWorkerStates, outputTargetOf, paneItems, queueWaitReasons, workerRows} from './state/pane-items.js';
import {sessionProgress} from './state/progress.js';
import {initialUiState, uiReducer, type ListPaneId, type PaneId} from './state/ui-state.js';
import {ThemeContext, themeFor, type Theme} from './theme.js';

export type AppProps = {
	readonly scheduler: Scheduler;
	/** Called once the user has confirmed quitting. */
	readonly onQuit: () => void;
	/** A fixed terminal size, for tests; otherwise stdout's, following resizes. */
	readonly size?: TerminalSize;
	/** Where jobs added with `a` run. */
	readonly cwd?: string;
	readonly theme?: Theme;
};

export function App({scheduler, onQuit, size, cwd = process.cwd(), theme = themeFor(process.env)}: AppProps) {
	return (
		<ThemeContext.Provider value={theme}>
			<TerminalSizeProvider size={size}>
				<Screen scheduler={scheduler} onQuit={onQuit} cwd={cwd} />
			</TerminalSizeProvider>
		</ThemeContext.Provider>
	);
}

const messageShownMs = 8000;
const paneNames: Record<PaneId, string> = {workers: 'Workers', queue: 'Queue', running: 'Running', history: 'History', output: 'Output'};

function Screen({scheduler, onQuit, cwd}: {readonly scheduler: Scheduler; readonly onQuit: () => void; readonly cwd: string}) {
	const {model, loadError} = useSchedulerState(scheduler);
	const [ui, dispatch] = useReducer(uiReducer, initialUiState);
	const {columns, rows} = useTerminalSize();
	const now = useNow();
	const layout = computeLayout(columns, rows, ui.focus, ui.shownList);
	const workers = useMemo(() => (model ? workerRows(model) : []), [model]);
	const items = useMemo(() => model && paneItems(model, workers, ui.filters), [model, workers, ui.filters]);
	const waitReason = useMemo(() => model && queueWaitReasons(model, now), [model, now]);
	const selected = items && selectedItems({items, ui});
	const followed = ui.focus === 'output' || ui.focus === 'queue' ? undefined : outputTargetOf(ui.focus, selected?.[ui.focus]);
	useEffect(() => {
		if (followed) dispatch({type: 'show-output', target: followed});
	}, [followed?.runId]);
	// Stopped from elsewhere (`jobdeck stop`): there is nothing left to drive.
	useEffect(() => {
		if (model?.stopping) onQuit();
	}, [model?.stopping]);
	const newestRun = items?.running.at(-1);
	const target = ui.output ?? outputTargetOf('running', newestRun);
	const view = useLogTail(target?.logFile);
	const outputLastLine = view.firstLine + view.lines.length;
	const heightOf = (pane: PaneId): number => layout.columns.flat().find(box => box.pane === pane)?.height ?? layout.bodyHeight;
	useKeymap({mode: ui.mode.name, onToggle: formOnToggle(ui)}, command => {
		if (!model || !items) {
			if (command.type === 'ask-quit' || command.type === 'answer') onQuit();
			return;
		}

		const pageSize = (pane: PaneId): number => Math.max(1, heightOf(pane) - (pane === 'output' ? 3 : 4));
		runCommand(command, {scheduler, model, ui, dispatch, items, pageSize, outputLastLine, cwd, onQuit});
	});

	if (!model || !items) {
		return (
			<Box height={layout.height} width={layout.width} alignItems="center" justifyContent="center">
				<Text>{loadError ? `Cannot read the scheduler's state: ${loadError} (q quits)` : 'Loading the scheduler state…'}</Text>
			</Box>
		);
	}

	const running = target && model.running.get(target.runId);
	const finished = target && !running ? model.finished.findLast(run => run.runId === target.runId) : undefined;
	const status = running ? `running ${formatDuration(now - running.startedAt)}` : finished ? `${describeResult(finished)} after ${formatDuration(finished.endedAt - finished.startedAt)}` : '';
	const index = (pane: ListPaneId): number => selectedIndex(pane, items, ui);
	const message = ui.message && now - ui.message.at < messageShownMs ? ui.message : model.lastError && now - model.lastError.at < messageShownMs ? {text: model.lastError.message, tone: 'error' as const, at: model.lastError.at} : undefined;
	const area = {areaWidth: layout.width, areaHeight: layout.bodyHeight};
	const mode = ui.mode;
	const setFormValue = (name: string, value: string): void => dispatch({type: 'form', action: {type: 'set-value', name, value}});
	return (
		<Box flexDirection="column" width={layout.width} height={layout.height}>
			<Header model={model} workerStates={countWorkerStates(workers)} progress={sessionProgress(model, now)} width={layout.width} />
			<Box height={layout.bodyHeight}>
				<Deck
					layout={layout}
					ui={ui}
					items={items}
					selected={{workers: index('workers'), queue: index('queue'), running: index('running'), history: index('history')}}
					paused={model.paused}
					now={now}
					waitReason={waitReason!}
					output={{target, status, failed: finished !== undefined && finished.outcome !== 'succeeded', view}}
				/>
				{mode.name === 'help' ? <HelpOverlay {...area} /> : null}
				{mode.name === 'confirm' ? <ConfirmDialog request={mode.request} {...area} /> : null}
				{mode.name === 'form' && mode.form.kind === 'add-worker' ? <AddWorkerForm form={mode.form} onChange={setFormValue} {...area} /> : null}
				{mode.name === 'form' && mode.form.kind === 'add-job' ? <AddJobForm form={mode.form} onChange={setFormValue} cwd={cwd} {...area} /> : null}
			</Box>
			<Footer
				hints={footerHints(mode, ui.focus, model.paused)}
				message={message}
				filter={mode.name === 'filter' ? {pane: paneNames[mode.pane], text: ui.filters[mode.pane], onChange: text => dispatch({type: 'set-filter', pane: mode.pane, text})} : undefined}
				width={layout.width}
			/>
		</Box>
	);
}
