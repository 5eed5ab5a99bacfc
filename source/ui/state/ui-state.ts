import {formReducer, newForm, singleLine, type FormAction, type FormKind, type FormState} from './forms.js';

// Everything the screen remembers that is not the scheduler's: which pane has
// the focus, what is selected in each, filters, the output pane's scrolling,
// and the mode the keyboard is in. A mode is one of normal, filter, form,
// confirm and help; the keymap reads it to decide what a key means.

export type PaneId = 'workers' | 'queue' | 'running' | 'history' | 'output';
export const paneOrder: readonly PaneId[] = ['workers', 'queue', 'running', 'history', 'output'];
export type ListPaneId = Exclude<PaneId, 'output'>;

/** The selected row, kept by key so that it stays on its job while the list moves under it. */
export type Selection = {readonly index: number; readonly key?: string | number};

/**
 * What quitting the UI does to the scheduler: `stops` the one this process
 * runs, `offers-detach` (the user chooses to stop it or keep it running in the
 * background), or `leaves` the one this UI is attached to running.
 */
export type QuitBehaviour = 'stops' | 'offers-detach' | 'leaves';

export type ConfirmRequest =
	| {readonly kind: 'quit'; readonly runningJobs: number; readonly quitting: QuitBehaviour; readonly schedulerGone?: boolean}
	| {readonly kind: 'stop-scheduler'; readonly runningJobs: number}
	| {readonly kind: 'cancel-job'; readonly jobId: number; readonly worker: string}
	| {readonly kind: 'remove-worker'; readonly name: string; readonly runningJobIds: readonly number[]};

export type Mode =
	| {readonly name: 'normal'}
	| {readonly name: 'help'}
	| {readonly name: 'filter'; readonly pane: PaneId}
	| {readonly name: 'form'; readonly form: FormState}
	| {readonly name: 'confirm'; readonly request: ConfirmRequest};

/** The run whose log the output pane shows. */
export type OutputTarget = {readonly runId: number; readonly jobId: number; readonly worker: string; readonly logFile: string};

/** Following shows the newest line at the bottom; otherwise `bottomLine` (counted from the log's start) stays put. */
export type OutputScroll = {readonly follow: true} | {readonly follow: false; readonly bottomLine: number};

export type Message = {readonly text: string; readonly tone: 'info' | 'error'; readonly at: number};

export type UiState = {
	readonly mode: Mode;
	readonly focus: PaneId;
	readonly selections: Readonly<Record<ListPaneId, Selection>>;
	readonly filters: Readonly<Record<PaneId, string>>;
	readonly output?: OutputTarget;
	readonly outputScroll: OutputScroll;
	readonly message?: Message;
	/** Queue and History share a place in narrower layouts: the one focused last is shown. */
	readonly shownList: 'queue' | 'history';
};

export type UiAction =
	| {type: 'focus'; pane: PaneId}
	| {type: 'cycle-focus'; delta: number}
	| {type: 'select'; pane: ListPaneId; selection: Selection}
	| {type: 'show-output'; target: OutputTarget}
	| {type: 'scroll-output'; delta: number; lastLine: number}
	| {type: 'toggle-follow'; lastLine: number}
	| {type: 'set-mode'; mode: Mode}
	| {type: 'open-form'; kind: FormKind}
	| {type: 'form'; action: FormAction}
	/** Closes the form if it is still open: the user may have left it while it was being submitted. */
	| {type: 'close-form'}
	| {type: 'set-filter'; pane: PaneId; text: string}
	| {type: 'message'; text: string; tone: Message['tone']};

const emptySelection: Selection = {index: 0};

export const initialUiState: UiState = {
	mode: {name: 'normal'},
	focus: 'queue',
	selections: {workers: emptySelection, queue: emptySelection, running: emptySelection, history: emptySelection},
	filters: {workers: '', queue: '', running: '', history: '', output: ''},
	outputScroll: {follow: true},
	shownList: 'queue',
};

export function uiReducer(state: UiState, action: UiAction): UiState {
	switch (action.type) {
		case 'focus': {
			return withFocus(state, action.pane);
		}

		case 'cycle-focus': {
			const index = paneOrder.indexOf(state.focus);
			return withFocus(state, paneOrder[(index + action.delta + paneOrder.length) % paneOrder.length] ?? state.focus);
		}

		case 'select': {
			return {...state, selections: {...state.selections, [action.pane]: action.selection}};
		}

		case 'show-output': {
			if (state.output?.runId === action.target.runId) return state;
			return {...state, output: action.target, outputScroll: {follow: true}};
		}

		case 'scroll-output': {
			const bottom = state.outputScroll.follow ? action.lastLine : state.outputScroll.bottomLine;
			const next = Math.max(0, Math.min(action.lastLine, bottom + action.delta));
			// Scrolling back down to the end picks following up again, as `less +F` users expect.
			const outputScroll: OutputScroll = next >= action.lastLine && action.delta > 0 ? {follow: true} : {follow: false, bottomLine: next};
			return {...state, outputScroll};
		}

		case 'toggle-follow': {
			const outputScroll: OutputScroll = state.outputScroll.follow ? {follow: false, bottomLine: action.lastLine} : {follow: true};
			return {...state, outputScroll};
		}

		case 'set-mode': {
			return {...state, mode: action.mode};
		}

		case 'open-form': {
			return {...state, mode: {name: 'form', form: newForm(action.kind)}};
		}

		case 'form': {
			if (state.mode.name !== 'form') return state;
			return {...state, mode: {name: 'form', form: formReducer(state.mode.form, action.action)}};
		}

		case 'close-form': {
			return state.mode.name === 'form' ? {...state, mode: {name: 'normal'}} : state;
		}

		case 'set-filter': {
			const filters = {...state.filters, [action.pane]: singleLine(action.text)};
			if (action.pane === 'output') return {...state, filters, outputScroll: {follow: true}};
			return {...state, filters, selections: {...state.selections, [action.pane]: emptySelection}};
		}

		case 'message': {
			return {...state, message: {text: action.text, tone: action.tone, at: Date.now()}};
		}
	}
}

function withFocus(state: UiState, focus: PaneId): UiState {
	const shownList = focus === 'queue' || focus === 'history' ? focus : state.shownList;
	return {...state, focus, shownList};
}

/** Where the selection is now: by key if its row still exists, otherwise the same position, within the list. */
export function resolveSelection<Item>(items: readonly Item[], selection: Selection, keyOf: (item: Item) => string | number): number {
	if (items.length === 0) return 0;
	const atIndex = items[selection.index];
	if (selection.key === undefined || (atIndex && keyOf(atIndex) === selection.key)) return Math.min(selection.index, items.length - 1);
	const found = items.findIndex(item => keyOf(item) === selection.key);
	return found === -1 ? Math.min(selection.index, items.length - 1) : found;
}
