import type {Scheduler, SubscribeOptions} from '../core/scheduler.js';
import {checkCleanRequest} from '../core/retention.js';
import {UserError} from '../core/user-error.js';

// The scheduler's methods as the control socket carries them: one entry per
// method, with the check of its parameters. The server dispatches through
// this table and the clients are built from its keys, so a method added to
// `Scheduler` and not here fails to compile, and none is ever accepted unchecked.
//
// The engine trusts its callers' types; a request is JSON from anybody's
// client, so the parameters whose type the engine takes on trust are checked
// here (a `"paused": "no"` would otherwise be saved and read as true). What
// the engine validates itself (worker names, slots, env, scripts, arguments)
// is left to it, so that every door refuses the same input with the same words.

/** Every method but `subscribe`, which is no request and answer but a stream of events. */
export type SchedulerMethod = Exclude<keyof Scheduler, 'subscribe'>;

/** Checks the parameters of a request (JSON: `undefined` arrives as null) and returns the arguments to call the method with. */
type ParamsCheck<M extends SchedulerMethod> = (params: unknown[], refuse: (expected: string) => never) => Parameters<Scheduler[M]>;

/** The most jobs one `queuePage` request returns. */
export const maxQueuePage = 10_000;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(item => typeof item === 'string');
const isIdList = (value: unknown): value is number[] => Array.isArray(value) && value.every(item => Number.isSafeInteger(item) && (item as number) >= 0);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const absent = (value: unknown): value is null | undefined => value === undefined || value === null;

export const schedulerApi = {
	snapshot([options], refuse) {
		if (absent(options)) return [];
		if (!isObject(options) || !(options.queue === undefined || typeof options.queue === 'boolean')) refuse('{queue?: true or false}');
		return [options];
	},
	queuePage([request], refuse) {
		if (!isObject(request) || !isCount(request.offset) || !isCount(request.limit) || request.limit > maxQueuePage
			|| !(request.filter === undefined || (typeof request.filter === 'string' && request.filter.length <= 1000))) {
			refuse(`{offset, limit (at most ${maxQueuePage}), filter?: text}`);
		}

		return [request as Parameters<Scheduler['queuePage']>[0]];
	},
	finishedRuns([query], refuse) {
		if (isObject(query) && isIdList(query.jobs)) return [{jobs: query.jobs}];
		if (isObject(query) && (query.newest === 'all' || isCount(query.newest))) return [{newest: query.newest}];
		return refuse('{jobs: [job ids]} or {newest: a count or "all"}');
	},
	addWorkers([request], refuse) {
		if (!isObject(request) || !Array.isArray(request.workers) || !request.workers.every(worker => isObject(worker) && typeof worker.name === 'string')
			|| !(request.skipSshCheck === undefined || typeof request.skipSshCheck === 'boolean')) {
			refuse('{workers: [{name, slots?, env?}…], skipSshCheck?: boolean}');
		}

		return [request as Parameters<Scheduler['addWorkers']>[0]];
	},
	removeWorkers([names, mode], refuse) {
		if (!isStringList(names) || !(mode === 'now' || mode === 'wait' || mode === 'kill')) return refuse('a list of names and "now", "wait" or "kill"');
		return [names, mode];
	},
	setWorkersDrained([names, drained], refuse) {
		if (!isStringList(names) || typeof drained !== 'boolean') return refuse('a list of names and true or false');
		return [names, drained];
	},
	tagWorkers([names, add, remove], refuse) {
		if (!isStringList(names) || !isStringList(add) || !isStringList(remove)) return refuse('a list of names, a list of tags to add and a list to remove');
		return [names, add, remove];
	},
	addJobs([jobs], refuse) {
		if (!Array.isArray(jobs) || !jobs.every(isObject)) return refuse('a list of jobs');
		return [jobs as Parameters<Scheduler['addJobs']>[0]];
	},
	removeJobs([selector], refuse) {
		const valid = isObject(selector) && ('ids' in selector
			? isIdList(selector.ids)
			: typeof selector.script === 'string' && isStringList(selector.args) && typeof selector.cwd === 'string');
		if (!valid) refuse('{ids: [job ids]} or {script, args, cwd}');
		return [selector as Parameters<Scheduler['removeJobs']>[0]];
	},
	cancelJobs([ids, graceMs], refuse) {
		if (!isIdList(ids)) return refuse('a list of job ids and a grace in milliseconds');
		// JSON has no undefined: a client that left out the grace sends null, and means the default.
		if (absent(graceMs)) return [ids];
		if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) return refuse('a list of job ids and a grace in milliseconds');
		return [ids, graceMs];
	},
	retryJobs([ids], refuse) {
		if (!isIdList(ids)) return refuse('a list of job ids');
		return [ids];
	},
	clean([request]) {
		// The same check the engine makes, so that the socket refuses with its words.
		return [checkCleanRequest(request)];
	},
	setJobPriority([ids, priority], refuse) {
		// The priority itself is the engine's to check, with the command line's words.
		if (!isIdList(ids)) return refuse('a list of job ids and a priority');
		return [ids, priority as number];
	},
	setPaused([paused], refuse) {
		if (typeof paused !== 'boolean') return refuse('true or false');
		return [paused];
	},
	loadStatus([status, cwd], refuse) {
		if (typeof cwd !== 'string') return refuse('a status and the directory its relative scripts are in');
		return [status, cwd];
	},
	stop() {
		return [];
	},
} satisfies {[M in SchedulerMethod]: ParamsCheck<M>};

export const schedulerMethods = Object.keys(schedulerApi) as SchedulerMethod[];

export function isSchedulerMethod(name: unknown): name is SchedulerMethod {
	return typeof name === 'string' && Object.hasOwn(schedulerApi, name);
}

/** The arguments of a request for `method`, or a UserError that says in one line what it takes. */
export function checkParams<M extends SchedulerMethod>(method: M, params: unknown): Parameters<Scheduler[M]> {
	const refuse = (expected: string): never => {
		throw new UserError(`malformed request: ${method} takes ${expected}`);
	};

	if (!(params === undefined || Array.isArray(params))) refuse('its parameters as a list');
	const check = schedulerApi[method] as ParamsCheck<M>;
	return check(Array.isArray(params) ? params : [], refuse);
}

export function checkSubscribeOptions(params: unknown): SubscribeOptions | undefined {
	const [options] = Array.isArray(params) ? params as unknown[] : [];
	if (absent(options)) return undefined;
	if (!isObject(options) || !(options.queue === undefined || options.queue === 'jobs' || options.queue === 'counts')) {
		throw new UserError('malformed request: subscribe takes {queue?: "jobs" or "counts"}');
	}

	return options;
}
