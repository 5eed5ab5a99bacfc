import type {Dispatch} from 'react';
import type {Scheduler} from '../core/scheduler.js';
import type {Command, Move} from './state/keymap.js';
import {addWorkersRequest, focusedField, newJobFromForm, type FormState} from './state/forms.js';
import {keyOfItem, outputTargetOf, type PaneItems, type WorkerRow} from './state/pane-items.js';
import {queueIndexOf, queueJobAt} from './state/queue-rows.js';
import type {SchedulerModel} from './state/scheduler-model.js';
import {resolveSelection, type ConfirmRequest, type ListPaneId, type QuitBehaviour, type UiAction, type UiState} from './state/ui-state.js';
import type {FinishedRun, JobRun, QueuedJob} from '../core/model.js';
import {errorMessage} from '../core/error-message.js';

export type CommandContext = {
	readonly scheduler: Scheduler;
	readonly model: SchedulerModel;
	readonly ui: UiState;
	readonly dispatch: Dispatch<UiAction>;
	readonly items: PaneItems;
	/** Rows a page moves in each pane. */
	readonly pageSize: (pane: ListPaneId | 'output') => number;
	/** The output pane's last line, counted from the start of the log. */
	readonly outputLastLine: number;
	readonly cwd: string;
	readonly quitting: QuitBehaviour;
	/** `detach`: the user chose to keep the scheduler running in the background. */
	readonly onQuit: (detach?: boolean) => void;
};

/**
 * Carries out a command from the keymap. Scheduler operations never block
 * the screen: they run in the background and report in the footer, or, for
 * a form, in the form, which stays open with its error until it succeeds.
 */
export function runCommand(command: Command, context: CommandContext): void {
	const {ui, dispatch, scheduler, model} = context;
	const selected = selectedItems(context);
	const report = (operation: Promise<unknown>, success: string): void => {
		operation.then(
			() => dispatch({type: 'message', text: success, tone: 'info'}),
			(error: unknown) => dispatch({type: 'message', text: errorMessage(error), tone: 'error'}),
		);
	};

	const hint = (text: string): void => dispatch({type: 'message', text, tone: 'error'});
	switch (command.type) {
		case 'ask-quit': {
			dispatch({type: 'set-mode', mode: {name: 'confirm', request: {kind: 'quit', runningJobs: model.running.size, quitting: context.quitting, schedulerGone: model.lost !== undefined}}});
			break;
		}

		case 'stop-scheduler': {
			if (model.lost) hint('the scheduler is gone already');
			else dispatch({type: 'set-mode', mode: {name: 'confirm', request: {kind: 'stop-scheduler', runningJobs: model.running.size}}});
			break;
		}

		case 'help': {
			dispatch({type: 'set-mode', mode: {name: 'help'}});
			break;
		}

		case 'close': {
			if (ui.mode.name !== 'normal') dispatch({type: 'set-mode', mode: {name: 'normal'}});
			else if (ui.filters[ui.focus]) dispatch({type: 'set-filter', pane: ui.focus, text: ''});
			break;
		}

		case 'focus': {
			dispatch({type: 'focus', pane: command.pane});
			break;
		}

		case 'cycle-focus': {
			dispatch({type: 'cycle-focus', delta: command.delta});
			break;
		}

		case 'move': {
			move(command.move, context);
			break;
		}

		case 'show-output': {
			const pane = ui.focus;
			if (pane === 'output') break;
			const target = outputTargetOf(pane, selected[pane]);
			if (target) {
				dispatch({type: 'show-output', target});
				dispatch({type: 'focus', pane: 'output'});
			} else {
				hint(pane === 'queue' ? 'a queued job has no output yet' : 'nothing selected that has output');
			}

			break;
		}

		case 'add-worker':
		case 'add-job': {
			dispatch({type: 'open-form', kind: command.type});
			break;
		}

		case 'remove': {
			const job = ui.focus === 'queue' ? selected.queue : undefined;
			const row = ui.focus === 'workers' ? selected.workers : undefined;
			if (job) {
				report(scheduler.removeJobs({ids: [job.id]}), `removed job #${job.id} from the queue`);
			} else if (row) {
				const request: ConfirmRequest = {kind: 'remove-worker', name: row.worker.name, runningJobIds: row.runs.map(run => run.id)};
				dispatch({type: 'set-mode', mode: {name: 'confirm', request}});
			} else {
				hint('d removes the selected queued job (pane 2) or worker (pane 1)');
			}

			break;
		}

		case 'cancel': {
			const run = ui.focus === 'running' ? selected.running : undefined;
			if (run) dispatch({type: 'set-mode', mode: {name: 'confirm', request: {kind: 'cancel-job', jobId: run.id, worker: run.worker}}});
			else hint('c cancels the selected running job (pane 3)');
			break;
		}

		case 'retry': {
			const run = ui.focus === 'history' ? selected.history : undefined;
			if (run) report(scheduler.retryJobs([run.id]), `re-queued job #${run.id}`);
			else hint('r re-queues the selected finished job (pane 4)');
			break;
		}

		case 'pause': {
			report(scheduler.setPaused(!model.paused), model.paused ? 'resumed: jobs are handed out again' : 'paused: no new job starts');
			break;
		}

		case 'drain': {
			const row = ui.focus === 'workers' ? selected.workers : undefined;
			if (row) {
				// On an offline worker it is `jobdeck enable`: the user vouches that it answers again.
				const drained = !row.worker.drained && !row.worker.offline;
				report(scheduler.setWorkersDrained([row.worker.name], drained), `${drained ? 'draining' : 'enabled'} ${row.worker.name}`);
			} else {
				hint('D drains the selected worker (pane 1)');
			}

			break;
		}

		case 'priority': {
			const job = ui.focus === 'queue' ? selected.queue : undefined;
			if (job) {
				const priority = (job.priority ?? 0) + command.delta;
				report(scheduler.setJobPriority([job.id], priority), `job #${job.id} now has priority ${priority}`);
			} else {
				hint('+ and - raise and lower the selected queued job\'s priority (pane 2)');
			}

			break;
		}

		case 'filter': {
			dispatch({type: 'set-mode', mode: {name: 'filter', pane: ui.focus}});
			break;
		}

		case 'follow': {
			dispatch({type: 'toggle-follow', lastLine: context.outputLastLine});
			break;
		}

		case 'answer': {
			if (ui.mode.name === 'confirm') answer(ui.mode.request, command.answer, context, report);
			break;
		}

		case 'form-focus': {
			dispatch({type: 'form', action: {type: 'move-focus', delta: command.delta}});
			break;
		}

		case 'form-toggle': {
			dispatch({type: 'form', action: {type: 'toggle'}});
			break;
		}

		case 'form-submit': {
			if (ui.mode.name === 'form' && !ui.mode.form.submitting) submit(ui.mode.form, context);
			break;
		}

		case 'filter-keep': {
			dispatch({type: 'set-mode', mode: {name: 'normal'}});
			break;
		}

		case 'filter-clear': {
			if (ui.mode.name === 'filter') dispatch({type: 'set-filter', pane: ui.mode.pane, text: ''});
			dispatch({type: 'set-mode', mode: {name: 'normal'}});
			break;
		}
	}
}

/** Whether Space flips the focused field of the open form. */
export function formOnToggle(ui: UiState): boolean {
	return ui.mode.name === 'form' && focusedField(ui.mode.form)?.kind === 'toggle';
}

type SelectedItems = {
	workers?: WorkerRow;
	queue?: QueuedJob;
	running?: JobRun;
	history?: FinishedRun;
};

export function selectedIndex(pane: ListPaneId, items: PaneItems, ui: UiState): number {
	if (pane === 'queue') {
		// Only a stretch of the queue is held: the selected job is looked for there, else the position stays.
		const {total} = items.queue;
		const selection = ui.selections.queue;
		if (total === 0) return 0;
		const index = Math.min(selection.index, total - 1);
		if (selection.key === undefined || queueJobAt(items.queue, index)?.id === selection.key) return index;
		return queueIndexOf(items.queue, selection.key as number) ?? index;
	}

	return resolveSelection<unknown>(items[pane], ui.selections[pane], item => keyOfItem(pane, item));
}

export function selectedItems({items, ui}: Pick<CommandContext, 'items' | 'ui'>): SelectedItems {
	return {
		workers: items.workers[selectedIndex('workers', items, ui)],
		queue: queueJobAt(items.queue, selectedIndex('queue', items, ui)),
		running: items.running[selectedIndex('running', items, ui)],
		history: items.history[selectedIndex('history', items, ui)],
	};
}

function move(to: Move, context: CommandContext): void {
	const {ui, dispatch, items} = context;
	const pane = ui.focus;
	const page = context.pageSize(pane);
	const delta = {up: -1, down: 1, 'page-up': -page, 'page-down': page, top: -Infinity, bottom: Infinity}[to];
	if (pane === 'output') {
		if (to === 'bottom') dispatch({type: 'scroll-output', delta: Infinity, lastLine: context.outputLastLine});
		else dispatch({type: 'scroll-output', delta: Number.isFinite(delta) ? delta : -context.outputLastLine, lastLine: context.outputLastLine});
		return;
	}

	const length = pane === 'queue' ? items.queue.total : items[pane].length;
	if (length === 0) return;
	const index = Math.max(0, Math.min(length - 1, selectedIndex(pane, items, ui) + delta));
	// A queued job far from the rows held has no key yet: the selection keeps its position until its page comes.
	const item = pane === 'queue' ? queueJobAt(items.queue, index) : items[pane][index];
	dispatch({type: 'select', pane, selection: {index, key: item === undefined ? undefined : keyOfItem(pane, item)}});
}

function answer(request: ConfirmRequest, reply: string, context: CommandContext, report: (operation: Promise<unknown>, success: string) => void): void {
	const {dispatch, scheduler} = context;
	const close = (): void => dispatch({type: 'set-mode', mode: {name: 'normal'}});
	if (request.kind === 'quit') {
		if (reply === 'yes' || reply === 'interrupt') context.onQuit();
		else if (reply === 'background' && request.quitting === 'offers-detach') context.onQuit(true);
		else if (reply === 'no') close();
		return;
	}

	if (reply === 'interrupt') {
		dispatch({type: 'set-mode', mode: {name: 'confirm', request: {kind: 'quit', runningJobs: context.model.running.size, quitting: context.quitting}}});
		return;
	}

	if (reply === 'no') {
		close();
		return;
	}

	if (request.kind === 'stop-scheduler' && reply === 'yes') {
		close();
		report(context.scheduler.stop(), 'scheduler stopped; running jobs keep running and the next start adopts them');
	} else if (request.kind === 'cancel-job' && reply === 'yes') {
		close();
		report(scheduler.cancelJobs([request.jobId]), `cancelling job #${request.jobId}`);
	} else if (request.kind === 'remove-worker') {
		const busy = request.runningJobIds.length > 0;
		const mode = busy ? ({wait: 'wait', kill: 'kill'} as const)[reply as 'wait' | 'kill'] : reply === 'yes' ? 'now' : undefined;
		if (!mode) return;
		close();
		const outcome = {
			now: `removed worker ${request.name}`,
			wait: `worker ${request.name} goes when its jobs end`,
			kill: `removed worker ${request.name} and cancelled its jobs`,
		}[mode];
		report(scheduler.removeWorkers([request.name], mode), outcome);
	}
}

function submit(form: FormState, context: CommandContext): void {
	const {dispatch, scheduler} = context;
	let operation: Promise<string>;
	try {
		if (form.kind === 'add-worker') {
			const request = addWorkersRequest(form);
			operation = scheduler.addWorkers(request).then(workers => `added ${workers.length === 1 ? 'worker' : 'workers'} ${workers.map(worker => worker.name).join(' ')}`);
		} else {
			const job = newJobFromForm(form, context.cwd);
			operation = scheduler.addJobs([job]).then(jobs => `queued job #${jobs.map(queued => queued.id).join(', #')}`);
		}
	} catch (error) {
		// Refused before anything was sent: nothing was added.
		dispatch({type: 'form', action: {type: 'failed', message: (error as Error).message}});
		return;
	}

	dispatch({type: 'form', action: {type: 'submitting'}});
	operation.then(
		text => {
			dispatch({type: 'close-form'});
			dispatch({type: 'message', text, tone: 'info'});
		},
		(error: unknown) => dispatch({type: 'form', action: {type: 'failed', message: errorMessage(error)}}),
	);
}
