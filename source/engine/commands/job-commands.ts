import {resolve} from 'node:path';
import type {JobRun, QueuedJob} from '../../core/model.js';
import {defaultCancelGraceMs, type JobSelector, type NewJob, type SchedulerEvent} from '../../core/scheduler.js';
import {UserError} from '../../core/user-error.js';
import {checkJobIds, checkPriority, describeString} from '../../core/validation.js';
import {dependencyEnd, dependencyFailedRun, dependencyFailures, isQueuedOrRunning} from '../dependency-walk.js';
import {change, refuseWhenStopping, type EngineContext} from '../engine-context.js';
import {checkNewJobs} from '../new-entry-checks.js';
import type {StateChange} from '../state/scheduler-state.js';
import {present} from '../../core/present.js';

// The job commands: add, change priority, remove, cancel.

export async function addJobs(context: EngineContext, newJobs: NewJob[]): Promise<QueuedJob[]> {
	refuseWhenStopping(context);
	if (newJobs.length === 0) throw new UserError('no job given');
	const checked = await checkNewJobs(newJobs);
	const awaited = new Set(checked.flatMap(job => job.after ?? []));
	const olderRuns = await context.history.lastRunsOf([...awaited].filter(id => !isQueuedOrRunning(context.state, id)));
	const now = Date.now();
	// Ids are handed out only after every job passed its checks, and with no await in between.
	let id = context.state.nextJobId;
	const jobs: QueuedJob[] = checked.map(job => ({id: id++, ...job, queuedAt: now}));
	const failedAlready: Array<{job: QueuedJob; failed: number}> = [];
	for (const job of jobs) {
		for (const dependency of job.after ?? []) {
			if (dependency === job.id) throw new UserError(`job ${dependency} cannot run after itself`);
			const end = dependencyEnd(context.state, context.history.recent, dependency, olderRuns);
			if (end === undefined) throw new UserError(`--after: job ${dependency} is not known (not queued, running or finished here)`);
			if (typeof end === 'number') {
				failedAlready.push({job, failed: end});
				break;
			}
		}
	}

	// A job added after one that already failed for good is recorded as never to run, as if it had been waiting.
	const failedIds = new Set(failedAlready.map(({job}) => job.id));
	const queued = jobs.filter(job => !failedIds.has(job.id));
	let runId = context.state.nextRunId;
	const dependencyFailed = failedAlready.map(({job, failed}) => dependencyFailedRun(job, runId++, failed, now));
	const saved = change(
		context,
		[{type: 'jobs-queued', jobs: queued, ...(dependencyFailed.length > 0 && {dependencyFailed})}],
		[{type: 'jobs-queued', jobs: queued, at: now}, ...context.history.recordDependencyFailures(dependencyFailed, false)],
	);
	context.scheduleDispatch();
	await saved;
	return jobs;
}

export async function setJobPriority(context: EngineContext, ids: number[], priority: number): Promise<QueuedJob[]> {
	refuseWhenStopping(context);
	const checked = checkPriority(priority);
	const jobIds = checkJobIds(ids, 'the job ids');
	if (jobIds.length === 0) throw new UserError('no job id given');
	for (const id of jobIds) refuseUnlessQueued(context, id);
	const saved = context.store.apply([{type: 'jobs-priority', ids: jobIds, priority: checked}]);
	const jobs = jobIds.map(id => present(context.state.queue.get(id), `queued job ${id}`));
	context.bus.publishWhenSaved(saved, [{type: 'jobs-updated', jobs, at: Date.now()}]);
	context.scheduleDispatch();
	await saved;
	return jobs;
}

export async function removeJobs(context: EngineContext, selector: JobSelector): Promise<number[]> {
	refuseWhenStopping(context);
	let ids: number[];
	if ('ids' in selector) {
		for (const id of selector.ids) refuseUnlessQueued(context, id);
		ids = [...new Set(selector.ids)];
	} else {
		const script = resolve(selector.cwd, selector.script);
		ids = [...context.state.queue.values()]
			.filter(job => job.script === script && sameArgs(job.args, selector.args))
			.map(job => job.id);
		if (ids.length === 0) throw new UserError(`no queued job runs ${describeString([selector.script, ...selector.args].join(' '))}`);
	}

	const at = Date.now();
	const dependencyFailed = dependencyFailures(context.state, ids, at);
	const saved = change(
		context,
		[{type: 'jobs-removed', ids, ...(dependencyFailed.length > 0 && {dependencyFailed})}],
		[{type: 'jobs-removed', ids, at}, ...context.history.recordDependencyFailures(dependencyFailed)],
	);
	await saved;
	return ids;
}

export async function cancelJobs(context: EngineContext, ids: number[], graceMs = defaultCancelGraceMs): Promise<void> {
	refuseWhenStopping(context);
	const wanted = new Set(ids);
	const {runningJobIds} = context.state;
	// Only when some of the jobs are running is the list of runs looked through, once.
	const runs = new Map<number, JobRun>();
	if ([...wanted].some(id => runningJobIds.has(id))) {
		for (const run of context.state.running.values()) if (wanted.has(run.id)) runs.set(run.id, run);
	}

	const queuedIds: number[] = [];
	const runsToCancel: JobRun[] = [];
	for (const id of wanted) {
		const run = runs.get(id);
		if (run) runsToCancel.push(run);
		else if (context.state.queue.has(id)) queuedIds.push(id);
		else throw new UserError(`job ${id} is neither queued nor running`);
	}

	const at = Date.now();
	const changes: StateChange[] = runsToCancel
		.filter(run => run.cancelRequestedAt === undefined)
		.map(run => ({type: 'run-cancel-requested', runId: run.runId, at, killAt: at + graceMs}));
	const events: SchedulerEvent[] = runsToCancel.map(run => ({type: 'cancel-requested', runId: run.runId, id: run.id, at}));
	const dependencyFailed = dependencyFailures(context.state, queuedIds, at);
	if (queuedIds.length > 0) {
		changes.push({type: 'jobs-removed', ids: queuedIds, ...(dependencyFailed.length > 0 && {dependencyFailed})});
		events.push({type: 'jobs-removed', ids: queuedIds, at});
	}

	const saved = change(context, changes, [...events, ...context.history.recordDependencyFailures(dependencyFailed)]);
	await saved;
	for (const run of runsToCancel) context.terminate(run);
}

function refuseUnlessQueued(context: EngineContext, id: number): void {
	if (context.state.queue.has(id)) return;
	if (context.state.runningJobIds.has(id)) throw new UserError(`job ${id} is running: use \`jobdeck cancel ${id}\``);
	throw new UserError(`job ${id} is not queued`);
}

function sameArgs(left: readonly string[], right: readonly string[]): boolean {
	return left.length === right.length && left.every((arg, index) => arg === right[index]);
}
