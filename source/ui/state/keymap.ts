import type {Key} from 'ink';
import type {Mode, PaneId} from './ui-state.js';

// What each key means, by mode. One table for everything: the single input
// handler, the footer (the keys that work right now) and the help overlay
// all read from here, so they cannot disagree.

export type Move = 'up' | 'down' | 'top' | 'bottom' | 'page-up' | 'page-down';
export type Answer = 'yes' | 'no' | 'wait' | 'kill' | 'background' | 'interrupt';

export type Command =
	| {type: 'ask-quit'}
	| {type: 'help'}
	| {type: 'close'}
	| {type: 'focus'; pane: PaneId}
	| {type: 'cycle-focus'; delta: 1 | -1}
	| {type: 'move'; move: Move}
	| {type: 'show-output'}
	| {type: 'add-worker'}
	| {type: 'add-job'}
	| {type: 'remove'}
	| {type: 'cancel'}
	| {type: 'retry'}
	| {type: 'pause'}
	| {type: 'drain'}
	| {type: 'priority'; delta: 1 | -1}
	| {type: 'filter'}
	| {type: 'follow'}
	| {type: 'stop-scheduler'}
	| {type: 'answer'; answer: Answer}
	| {type: 'form-focus'; delta: 1 | -1}
	| {type: 'form-toggle'}
	| {type: 'form-submit'}
	| {type: 'filter-keep'}
	| {type: 'filter-clear'};

export type KeyContext = {
	readonly mode: Mode['name'];
	/** In a form, whether the focused field is a toggle (Space flips it) rather than text. */
	readonly onToggle?: boolean;
};

const paneKeys: Record<string, PaneId> = {1: 'workers', 2: 'queue', 3: 'running', 4: 'history', 5: 'output'};

export function commandForKey(context: KeyContext, input: string, key: Key): Command | undefined {
	const ctrlC = key.ctrl && input === 'c';
	switch (context.mode) {
		case 'help': {
			if (ctrlC) return {type: 'ask-quit'};
			return key.escape || key.return || input === '?' || input === 'q' ? {type: 'close'} : undefined;
		}

		case 'filter': {
			if (ctrlC) return {type: 'ask-quit'};
			if (key.return) return {type: 'filter-keep'};
			return key.escape ? {type: 'filter-clear'} : undefined;
		}

		case 'form': {
			if (ctrlC) return {type: 'ask-quit'};
			if (key.escape) return {type: 'close'};
			if (key.return) return {type: 'form-submit'};
			if (key.tab) return {type: 'form-focus', delta: key.shift ? -1 : 1};
			if (key.downArrow) return {type: 'form-focus', delta: 1};
			if (key.upArrow) return {type: 'form-focus', delta: -1};
			return context.onToggle && input === ' ' ? {type: 'form-toggle'} : undefined;
		}

		case 'confirm': {
			if (ctrlC) return {type: 'answer', answer: 'interrupt'};
			if (key.return || input === 'y') return {type: 'answer', answer: 'yes'};
			if (key.escape || input === 'n') return {type: 'answer', answer: 'no'};
			if (input === 'w') return {type: 'answer', answer: 'wait'};
			if (input === 'b') return {type: 'answer', answer: 'background'};
			return input === 'k' ? {type: 'answer', answer: 'kill'} : undefined;
		}

		case 'normal': {
			return normalCommand(input, key);
		}
	}
}

function normalCommand(input: string, key: Key): Command | undefined {
	if (key.ctrl) {
		if (input === 'c') return {type: 'ask-quit'};
		if (input === 'u' || input === 'b') return {type: 'move', move: 'page-up'};
		return input === 'd' || input === 'f' ? {type: 'move', move: 'page-down'} : undefined;
	}

	if (key.tab) return {type: 'cycle-focus', delta: key.shift ? -1 : 1};
	if (key.upArrow || input === 'k') return {type: 'move', move: 'up'};
	if (key.downArrow || input === 'j') return {type: 'move', move: 'down'};
	if (key.home || input === 'g') return {type: 'move', move: 'top'};
	if (key.end || input === 'G') return {type: 'move', move: 'bottom'};
	if (key.pageUp) return {type: 'move', move: 'page-up'};
	if (key.pageDown) return {type: 'move', move: 'page-down'};
	if (key.return) return {type: 'show-output'};
	// Ink 6 reports Esc with meta set, and both Backspace and Delete as delete.
	if (key.escape) return {type: 'close'};
	if (key.delete || key.backspace) return {type: 'remove'};
	const pane = paneKeys[input];
	if (pane) return {type: 'focus', pane};
	const letters: Record<string, Command> = {
		q: {type: 'ask-quit'},
		'?': {type: 'help'},
		w: {type: 'add-worker'},
		a: {type: 'add-job'},
		d: {type: 'remove'},
		c: {type: 'cancel'},
		r: {type: 'retry'},
		p: {type: 'pause'},
		D: {type: 'drain'},
		'+': {type: 'priority', delta: 1},
		// `+` without Shift, on most keyboards.
		'=': {type: 'priority', delta: 1},
		'-': {type: 'priority', delta: -1},
		'/': {type: 'filter'},
		f: {type: 'follow'},
		S: {type: 'stop-scheduler'},
	};
	return letters[input];
}

export type Hint = {readonly keys: string; readonly label: string};

/** The keys that do something in this mode and pane, most useful first. */
export function footerHints(mode: Mode, focus: PaneId, paused: boolean): readonly Hint[] {
	switch (mode.name) {
		case 'help': {
			return [{keys: 'Esc', label: 'close help'}];
		}

		case 'filter': {
			return [{keys: 'Enter', label: 'keep filter'}, {keys: 'Esc', label: 'clear filter'}];
		}

		case 'form': {
			return [{keys: 'Enter', label: 'add'}, {keys: 'Tab/↑↓', label: 'field'}, {keys: 'Space', label: 'toggle'}, {keys: 'Esc', label: 'cancel'}];
		}

		case 'confirm': {
			if (mode.request.kind === 'remove-worker' && mode.request.runningJobIds.length > 0) {
				return [{keys: 'w', label: 'wait for its jobs'}, {keys: 'k', label: 'kill them'}, {keys: 'Esc', label: 'cancel'}];
			}

			if (mode.request.kind === 'quit' && mode.request.quitting === 'offers-detach') {
				return [{keys: 'b', label: 'keep it running in the background'}, {keys: 'y', label: 'stop it'}, {keys: 'n/Esc', label: 'stay'}];
			}

			return [{keys: 'y', label: 'yes'}, {keys: 'n/Esc', label: 'no'}];
		}

		case 'normal': {
			return [...paneHints[focus], {keys: 'p', label: paused ? 'resume' : 'pause'}, ...commonHints];
		}
	}
}

const paneHints: Record<PaneId, readonly Hint[]> = {
	workers: [{keys: 'w', label: 'add'}, {keys: 'd', label: 'remove'}, {keys: 'D', label: 'drain'}, {keys: '⏎', label: 'output'}],
	queue: [{keys: 'a', label: 'add job'}, {keys: '+/-', label: 'priority'}, {keys: 'd', label: 'remove'}, {keys: 'w', label: 'add worker'}],
	running: [{keys: 'c', label: 'cancel'}, {keys: '⏎', label: 'output'}, {keys: 'a', label: 'add job'}],
	history: [{keys: 'r', label: 're-queue'}, {keys: '⏎', label: 'output'}, {keys: 'a', label: 'add job'}],
	output: [{keys: '↑↓', label: 'scroll'}, {keys: 'f', label: 'follow'}, {keys: 'G', label: 'end'}],
};

const commonHints: readonly Hint[] = [
	{keys: '/', label: 'filter'},
	{keys: 'Tab', label: 'pane'},
	{keys: '?', label: 'help'},
	{keys: 'q', label: 'quit'},
];

export const helpSections: ReadonlyArray<{readonly title: string; readonly hints: readonly Hint[]}> = [
	{
		title: 'Move',
		hints: [
			{keys: 'Tab  S-Tab', label: 'next / previous pane'},
			{keys: '1 … 5', label: 'Workers Queue Running History Output'},
			{keys: '↑ ↓  j k', label: 'move the selection (scroll in Output)'},
			{keys: 'g G  PgUp PgDn', label: 'first / last, a page up / down (C-u C-d)'},
			{keys: 'Enter', label: 'show the selected job\'s output'},
		],
	},
	{
		title: 'Act',
		hints: [
			{keys: 'w', label: 'add workers'},
			{keys: 'a', label: 'add a job'},
			{keys: 'd  Del', label: 'remove the queued job / the worker'},
			{keys: '+ -', label: 'raise / lower the queued job\'s priority by one'},
			{keys: 'c  r', label: 'cancel the running / re-queue a finished job'},
			{keys: 'p', label: 'pause / resume handing out jobs'},
			{keys: 'D', label: 'drain / enable the worker (enable: an offline one too)'},
			{keys: 'S', label: 'stop the scheduler (asks; running jobs keep running)'},
		],
	},
	{
		title: 'View',
		hints: [
			{keys: '/', label: 'filter the pane (Esc clears)'},
			{keys: 'f', label: 'follow the output on / off'},
			{keys: 'q  C-c', label: 'quit (jobs keep running; b: scheduler too)'},
		],
	},
];
