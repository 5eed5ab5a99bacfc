import type {AddWorkersRequest, NewJob} from '../../core/scheduler.js';
import {checkExecTotal, envExecBytes} from '../../core/exec-limits.js';
import {UserError} from '../../core/user-error.js';
import {
	checkArgs,
	checkDurationMs,
	checkPriority,
	checkRetries,
	checkSlots,
	checkTags,
	checkWorkerName,
	parseDuration,
	parseEnvAssignments,
	parseJobIdList,
	parseTagList,
} from '../../core/validation.js';
import {splitArguments} from '../../core/arguments.js';

// The two forms, `w` add workers and `a` add a job: their fields, the state
// of a form being filled in, and the requests they turn into. The requests
// are checked with the command line's own functions, so a form refuses the
// same input with the same words, before anything reaches the scheduler.

export type FormKind = 'add-worker' | 'add-job';

export type FormField = {
	readonly name: string;
	readonly label: string;
	readonly kind: 'text' | 'toggle';
	readonly placeholder?: string;
};

export const formFields: Record<FormKind, readonly FormField[]> = {
	'add-worker': [
		{name: 'names', label: 'Names', kind: 'text', placeholder: 'node01 node02 (space separated)'},
		{name: 'env', label: 'Env', kind: 'text', placeholder: 'NAME=VALUE … (optional)'},
		{name: 'slots', label: 'Slots', kind: 'text', placeholder: '1'},
		{name: 'skipSshCheck', label: 'Skip ssh check', kind: 'toggle'},
		{name: 'tags', label: 'Tags', kind: 'text', placeholder: 'gpu mem256 (optional; jobs --needs them)'},
	],
	'add-job': [
		{name: 'script', label: 'Script', kind: 'text', placeholder: './train.sh (relative to the directory jobdeck started in)'},
		{name: 'args', label: 'Arguments', kind: 'text', placeholder: '--lr 0.1 "two words" (optional, no shell)'},
		{name: 'env', label: 'Env', kind: 'text', placeholder: 'NAME=VALUE … (optional)'},
		{name: 'retries', label: 'Retries', kind: 'text', placeholder: '0 (runs a failed job again up to N times)'},
		{name: 'retryDelay', label: 'Retry delay', kind: 'text', placeholder: 'none (90s, 20m, 2h)'},
		{name: 'timeout', label: 'Timeout', kind: 'text', placeholder: 'none (90s, 20m, 2h)'},
		{name: 'needs', label: 'Needs tags', kind: 'text', placeholder: 'none (gpu,mem256: only workers with all of them)'},
		{name: 'priority', label: 'Priority', kind: 'text', placeholder: '0 (higher runs first)'},
		{name: 'after', label: 'After jobs', kind: 'text', placeholder: 'none (3,4: runs once those succeeded)'},
	],
};

export type FormState = {
	readonly kind: FormKind;
	readonly values: Readonly<Record<string, string>>;
	readonly toggles: Readonly<Record<string, boolean>>;
	/** Index into the form's fields. */
	readonly focus: number;
	readonly error?: string;
	readonly submitting: boolean;
};

export type FormAction =
	| {type: 'set-value'; name: string; value: string}
	| {type: 'toggle'}
	| {type: 'move-focus'; delta: number}
	| {type: 'submitting'}
	| {type: 'failed'; message: string};

export function newForm(kind: FormKind): FormState {
	return {kind, values: {}, toggles: {}, focus: 0, submitting: false};
}

export function formReducer(form: FormState, action: FormAction): FormState {
	const fields = formFields[form.kind];
	switch (action.type) {
		case 'set-value': {
			return {...form, values: {...form.values, [action.name]: singleLine(action.value)}, error: undefined};
		}

		case 'toggle': {
			const field = fields[form.focus];
			if (field?.kind !== 'toggle') return form;
			return {...form, toggles: {...form.toggles, [field.name]: !form.toggles[field.name]}};
		}

		case 'move-focus': {
			return {...form, focus: (form.focus + action.delta + fields.length) % fields.length};
		}

		case 'submitting': {
			return {...form, submitting: true, error: undefined};
		}

		case 'failed': {
			return {...form, submitting: false, error: action.message};
		}
	}
}

/**
 * Typed or pasted text as one line: keys that arrive together reach a text
 * field as one string, tabs and newlines included, and those must not reach
 * the screen.
 */
export function singleLine(text: string): string {
		return text.replace(/[\u0000-\u001F\u007F-\u009F]+/g, ' ');
}

export function focusedField(form: FormState): FormField | undefined {
	return formFields[form.kind][form.focus];
}

export function addWorkersRequest(form: FormState): AddWorkersRequest {
	const names = splitArguments(form.values['names'] ?? '').map(name => checkWorkerName(name));
	if (names.length === 0) throw new UserError('no worker name given');
	const slotsText = (form.values['slots'] ?? '').trim();
	const slots = checkSlots(slotsText === '' ? 1 : slotsText);
	const env = parseEnvAssignments(splitArguments(form.values['env'] ?? ''));
	// Typed like --tag's values, one word each.
	const tags = checkTags(splitArguments(form.values['tags'] ?? ''));
	return {workers: names.map(name => ({name, slots, env, ...(tags.length > 0 && {tags})})), skipSshCheck: form.toggles['skipSshCheck'] === true};
}

export function newJobFromForm(form: FormState, cwd: string): NewJob {
	const script = (form.values['script'] ?? '').trim();
	if (script.length === 0) throw new UserError('the script is empty');
	const args = checkArgs(splitArguments(form.values['args'] ?? ''));
	const env = parseEnvAssignments(splitArguments(form.values['env'] ?? ''));
	// As add-job does: arguments and env that together would not fit at exec.
	checkExecTotal(script, args, envExecBytes(env));
	const retries = (form.values['retries'] ?? '').trim();
	const retryDelay = (form.values['retryDelay'] ?? '').trim();
	const timeout = (form.values['timeout'] ?? '').trim();
	const needs = (form.values['needs'] ?? '').trim();
	const priority = (form.values['priority'] ?? '').trim();
	const after = (form.values['after'] ?? '').trim();
	return {
		script,
		args,
		env,
		cwd,
		...(retries !== '' && {retries: checkRetries(retries)}),
		...(retryDelay !== '' && {retryDelayMs: checkDurationMs(parseDuration(retryDelay), 'the retry delay', true)}),
		...(timeout !== '' && {timeoutMs: checkDurationMs(parseDuration(timeout), 'the timeout', false)}),
		// The command line's parsers, so the form refuses the same input with the same words.
		...(needs !== '' && {needs: parseTagList(needs)}),
		...(priority !== '' && {priority: checkPriority(priority)}),
		...(after !== '' && {after: parseJobIdList(after)}),
	};
}
