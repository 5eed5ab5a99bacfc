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
import {useQueuePage} from './hooks/use-queue-page.js';
import {useRedrawAt} from './hooks/use-redraw-at.js';
import {useSchedulerState} from './hooks/use-scheduler-state.js';
import {TerminalSizeProvider, useTerminalSize, type TerminalSize} from './hooks/use-terminal-size.js';
import {footerHints} from './state/keymap.js';
import {computeLayout} from './state/layout.js';
import {countWorkerStates, outputTargetOf, paneItems, workerRows} from './state/pane-items.js';
import {nextVisibleChange} from './state/next-visible-change.js';
import {nextProgressChange, sessionProgress} from './state/progress.js';
import {messageShownMs, shownTimes} from './state/shown-times.js';
import {initialUiState, uiReducer, type ListPaneId, type PaneId, type QuitBehaviour} from './state/ui-state.js';
import {ThemeContext, themeFor, type Theme} from './theme.js';

export type AppProps = {
	readonly scheduler: Scheduler;
	/** Called once the user has confirmed quitting; `detach`: keep the scheduler running in the background. */
	readonly onQuit: (detach?: boolean) => void;
	/** What quitting does to the scheduler (default: stops it). */
	readonly quitting?: QuitBehaviour;
	/** Shown in the footer when the screen opens. */
	readonly greeting?: string;
	/** A fixed terminal size, for tests; otherwise stdout's, following resizes. */
	readonly size?: TerminalSize;
	/** Where jobs added with `a` run. */
	readonly cwd?: string;
	readonly theme?: Theme;
};

export function App({scheduler, onQuit, quitting = 'stops', greeting, size, cwd = process.cwd(), theme = themeFor(process.env)}: AppProps) {
	return (
		<ThemeContext.Provider value={theme}>
			<TerminalSizeProvider size={size}>
				<Screen scheduler={scheduler} onQuit={onQuit} quitting={quitting} greeting={greeting} cwd={cwd} />
			</TerminalSizeProvider>
		</ThemeContext.Provider>
	);
}

const paneNames: Record<PaneId, string> = {workers: 'Workers', queue: 'Queue', running: 'Running', history: 'History', output: 'Output'};

type ScreenProps = {
	readonly scheduler: Scheduler;
	readonly onQuit: (detach?: boolean) => void;
	readonly quitting: QuitBehaviour;
	readonly greeting?: string;
	readonly cwd: string;
};

function Screen({scheduler, onQuit, quitting, greeting, cwd}: ScreenProps) {
	const {model, loadError} = useSchedulerState(scheduler);
	const [ui, dispatch] = useReducer(uiReducer, initialUiState);
	useEffect(() => {
		if (greeting) dispatch({type: 'message', text: greeting, tone: 'info'});
	}, [greeting]);
	const {columns, rows} = useTerminalSize();
	// Every render is as of now; useRedrawAt below brings the next one when a time on screen changes.
	// eslint-disable-next-line react-hooks/purity -- times on screen are as of this render, on purpose (see above)
	const now = Date.now();
	const layout = computeLayout(columns, rows, ui.focus, ui.shownList);
	const workers = useMemo(() => (model ? workerRows(model) : []), [model]);
	const heightOf = (pane: PaneId): number => layout.columns.flat().find(box => box.pane === pane)?.height ?? layout.bodyHeight;
	const queue = useQueuePage(scheduler, {version: model?.queueVersion ?? 0, filter: ui.filters.queue, selected: ui.selections.queue.index, height: heightOf('queue')});
	const items = useMemo(() => model && paneItems(model, workers, queue, ui.filters), [model, workers, queue, ui.filters]);
	const selected = items && selectedItems({items, ui});
	const followed = ui.focus === 'output' || ui.focus === 'queue' ? undefined : outputTargetOf(ui.focus, selected?.[ui.focus]);
	useEffect(() => {
		if (followed) dispatch({type: 'show-output', target: followed});
		// eslint-disable-next-line react-hooks/exhaustive-deps -- once per run followed: `followed` is a new object every render
	}, [followed?.runId]);
	// Our own scheduler stopped from elsewhere (`jobdeck stop`): there is nothing left to drive.
	// One we are attached to may come back: the screen waits for it.
	useEffect(() => {
		if (model?.stopping && quitting !== 'leaves') onQuit();
		// eslint-disable-next-line react-hooks/exhaustive-deps -- quits once, when stopping begins: onQuit is a new closure every render
	}, [model?.stopping]);
	const newestRun = items?.running.at(-1);
	const target = ui.output ?? outputTargetOf('running', newestRun);
	const view = useLogTail(target?.logFile);
	const outputLastLine = view.firstLine + view.lines.length;
	useKeymap({mode: ui.mode.name, onToggle: formOnToggle(ui)}, command => {
		if (!model || !items) {
			if (command.type === 'ask-quit' || command.type === 'answer') onQuit();
			return;
		}

		const pageSize = (pane: PaneId): number => Math.max(1, heightOf(pane) - (pane === 'output' ? 3 : 4));
		runCommand(command, {scheduler, model, ui, dispatch, items, pageSize, outputLastLine, cwd, quitting, onQuit});
	});

	const running = target && model?.running.get(target.runId);
	const progress = model && sessionProgress(model, now);
	useRedrawAt(items && progress && nextVisibleChange(now, shownTimes({
		layout,
		items,
		outputRun: running,
		progress: nextProgressChange(progress, model, now),
		messagesAt: [ui.message?.at, model.lastError?.at],
	})));

	if (!model || !items || !progress) {
		return (
			<Box height={layout.height} width={layout.width} alignItems="center" justifyContent="center">
				<Text>{loadError ? `Cannot read the scheduler's state: ${loadError} (q quits)` : 'Loading the scheduler state…'}</Text>
			</Box>
		);
	}

	const finished = target && !running ? model.finished.findLast(run => run.runId === target.runId) : undefined;
	const status = running ? `running ${formatDuration(now - running.startedAt)}` : finished ? `${describeResult(finished)} after ${formatDuration(finished.endedAt - finished.startedAt)}` : '';
	const index = (pane: ListPaneId): number => selectedIndex(pane, items, ui);
	const message = ui.message && now - ui.message.at < messageShownMs
		? ui.message
		: model.lastError && now - model.lastError.at < messageShownMs
			? {text: model.lastError.message, tone: 'error' as const, at: model.lastError.at}
			// Why the scheduler is out of reach (gone, or of another version) stays in view until it is back.
			: model.lost && {text: model.lost.message, tone: 'error' as const, at: model.lost.at};
	const area = {areaWidth: layout.width, areaHeight: layout.bodyHeight};
	const mode = ui.mode;
	const setFormValue = (name: string, value: string): void => dispatch({type: 'form', action: {type: 'set-value', name, value}});
	return (
		<Box flexDirection="column" width={layout.width} height={layout.height}>
			<Header model={model} workerStates={countWorkerStates(workers)} progress={progress} width={layout.width} />
			<Box height={layout.bodyHeight}>
				<Deck
					layout={layout}
					ui={ui}
					items={items}
					selected={{workers: index('workers'), queue: index('queue'), running: index('running'), history: index('history')}}
					paused={model.paused}
					now={now}
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
