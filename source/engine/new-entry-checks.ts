import {constants} from 'node:fs';
import {access, stat} from 'node:fs/promises';
import {isAbsolute, resolve} from 'node:path';
import {checkExecTotal, envExecBytes} from '../core/exec-limits.js';
import type {NewJob, NewWorker} from '../core/scheduler.js';
import type {QueuedJob, Worker} from '../core/model.js';
import {UserError} from '../core/user-error.js';
import {
	checkArgs,
	checkDurationMs,
	checkEnv,
	checkJobIds,
	checkPriority,
	checkRetries,
	checkSlots,
	checkTags,
	checkWorkerName,
} from '../core/validation.js';

// The checks of new workers and jobs, before anything is saved: bad input is
// refused with one clear line and changes nothing.

function tagsOf(tags: unknown): Pick<Worker, 'tags'> {
	const checked = checkTags(tags);
	return checked.length > 0 ? {tags: checked} : {};
}

export function checkNewWorker(entry: NewWorker, now: number): Worker {
	return {
		name: checkWorkerName(entry.name),
		slots: checkSlots(entry.slots ?? 1),
		env: checkEnv(entry.env),
		...(tagsOf(entry.tags)),
		addedAt: now,
		removeWhenIdle: false,
		drained: false,
		jobsDone: 0,
		jobsFailed: 0,
	};
}

/** Checks jobs before any is queued, in order; a batch shares one check per directory and per script. */
export async function checkNewJobs(newJobs: NewJob[]): Promise<Array<Omit<QueuedJob, 'id' | 'queuedAt'>>> {
	// Only the first job with a directory or script waits for the file system: 100,000 jobs of one script cost no more awaits than one.
	const checkedDirectories = new Set<unknown>();
	const checkedScripts = new Set<string>();
	const checked: Array<Omit<QueuedJob, 'id' | 'queuedAt'>> = [];
	for (const job of newJobs) {
		if (!checkedDirectories.has(job.cwd)) {
			await checkDirectory(job.cwd);
			checkedDirectories.add(job.cwd);
		}

		const script = resolve(job.cwd, checkScriptName(job.script));
		if (!checkedScripts.has(script)) {
			await checkExecutable(script);
			checkedScripts.add(script);
		}

		const args = checkArgs(job.args);
		const env = checkEnv(job.env);
		// Each passed on its own; together they must still fit at exec (a socket client's job, or load-status's).
		checkExecTotal(script, args, envExecBytes(env));
		checked.push({script, args, env, cwd: job.cwd, ...checkJobSettings(job)});
	}

	return checked;
}

/** Only the settings a job has are stored: most jobs have none. */
function checkJobSettings(job: NewJob): Pick<QueuedJob, 'retries' | 'retryDelayMs' | 'timeoutMs' | 'needs' | 'priority' | 'after'> {
	const retries = job.retries === undefined ? 0 : checkRetries(job.retries);
	const needs = checkTags(job.needs);
	const priority = job.priority === undefined ? 0 : checkPriority(job.priority);
	const after = checkJobIds(job.after, '--after');
	return {
		...(needs.length > 0 && {needs}),
		...(priority !== 0 && {priority}),
		...(after.length > 0 && {after}),
		...(retries > 0 && {retries}),
		...(job.retryDelayMs !== undefined && job.retryDelayMs !== 0 && {retryDelayMs: checkDurationMs(job.retryDelayMs, 'the retry delay', true)}),
		...(job.timeoutMs !== undefined && {timeoutMs: checkDurationMs(job.timeoutMs, 'the timeout', false)}),
	};
}

function checkScriptName(script: string): string {
	if (typeof script !== 'string' || script.length === 0) throw new UserError('the script is empty');
	if (script.includes('\0')) throw new UserError('the script name contains a NUL byte');
	return script;
}

async function checkDirectory(cwd: string): Promise<string> {
	if (typeof cwd !== 'string' || !isAbsolute(cwd)) throw new UserError('the job\'s directory must be an absolute path');
	const info = await stat(cwd).catch(() => undefined);
	if (!info?.isDirectory()) throw new UserError(`the job's directory ${cwd} does not exist`);
	return cwd;
}

async function checkExecutable(script: string): Promise<void> {
	const info = await stat(script).catch(() => undefined);
	if (!info) throw new UserError(`script ${script} does not exist`);
	if (info.isDirectory()) throw new UserError(`script ${script} is a directory, not an executable file`);
	try {
		await access(script, constants.X_OK);
	} catch {
		throw new UserError(`script ${script} is not executable: run \`chmod +x ${script}\``);
	}
}
