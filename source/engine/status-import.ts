import type {EnvVars} from '../core/model.js';
import type {NewJob, NewWorker} from '../core/scheduler.js';
import {UserError} from '../core/user-error.js';
import {checkEnv, parseEnvAssignments} from '../core/validation.js';

// `load-status` reads two shapes: our own `status --json`, and the status
// JSON of the Python tool jobdeck descends from, so that its users can move
// their workers and waiting jobs over in one command. What the original
// really prints is in test/fixtures/original/ (capture.py re-makes it).

export type ImportedStatus = {
	workers: NewWorker[];
	/** Waiting jobs first, then the jobs that were running when the status was saved (they run again). */
	jobs: NewJob[];
	requeuedRunning: number;
};

/**
 * The JSON of a saved status. The original logs with Python's logging on stderr (`ERROR:root:…`):
 * a status saved with `2>&1` has those lines too, and they are left out here.
 */
export function parseStatusText(text: string): unknown {
	const logged = /^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):root:(.*)$/;
	const lines = text.split('\n');
	const errors = lines.map(line => logged.exec(line)?.[1]).filter(message => message !== undefined);
	const json = lines.filter(line => !logged.test(line)).join('\n');
	if (json.trim() === '') throw new UserError(errors.length > 0 ? `it holds no status, only the original cli.py's messages: ${errors.join('; ')}` : 'it is empty');
	let status: unknown;
	try {
		status = JSON.parse(json);
	} catch (error) {
		throw new UserError(`it is not JSON: ${(error as Error).message}`);
	}

	if (status === null && errors.length > 0) throw new UserError(`${originalNull} (it said: ${errors.join('; ')})`);
	return status;
}

const originalNull = 'it holds null, not a status: the original cli.py prints that when it cannot report its state, as after a restart while it has workers (it forgets their env); remove its workers there (remove_slave), save its status again, and add them here with add-worker';

export function parseStatus(status: unknown, cwd: string): ImportedStatus {
	if (status === null) throw new UserError(originalNull);
	if (typeof status !== 'object' || Array.isArray(status)) {
		throw new UserError('the status is not a JSON object');
	}

	const record = status as Record<string, unknown>;
	if ('job_waitlist' in record || 'slaves' in record) return parseOriginalStatus(record, cwd);
	if ('workers' in record && 'queue' in record) return parseJobdeckStatus(record, cwd);
	throw new UserError('the status has neither "workers" and "queue" (jobdeck) nor "job_waitlist" and "slaves" (the original cli.py)');
}

function parseJobdeckStatus(status: Record<string, unknown>, cwd: string): ImportedStatus {
	const workers = list(status['workers'], 'workers').map((entry, index): NewWorker => {
		const worker = object(entry, `workers[${index}]`);
		return {
			name: string(worker['name'], `workers[${index}].name`),
			slots: worker['slots'] as number | undefined,
			env: checkEnv(worker['env']),
			...(worker['tags'] !== undefined && {tags: worker['tags'] as string[]}),
		};
	});
	const toJob = (where: string) => (entry: unknown, index: number): NewJob => {
		const job = object(entry, `${where}[${index}]`);
		return {
			script: string(job['script'], `${where}[${index}].script`),
			args: list(job['args'] ?? [], `${where}[${index}].args`).map((arg, argIndex) => string(arg, `${where}[${index}].args[${argIndex}]`)),
			env: checkEnv(job['env']),
			cwd: typeof job['cwd'] === 'string' ? job['cwd'] : cwd,
			// Checked by the engine like those of any new job.
			...(job['retries'] !== undefined && {retries: job['retries'] as number}),
			...(job['retryDelayMs'] !== undefined && {retryDelayMs: job['retryDelayMs'] as number}),
			...(job['timeoutMs'] !== undefined && {timeoutMs: job['timeoutMs'] as number}),
			...(job['needs'] !== undefined && {needs: job['needs'] as string[]}),
			...(job['priority'] !== undefined && {priority: job['priority'] as number}),
			// Not `after`: the jobs get new ids here, so the ids it names would mean other jobs.
		};
	};

	const queued = list(status['queue'], 'queue').map(toJob('queue'));
	const running = list(status['running'] ?? [], 'running').map(toJob('running'));
	return {workers, jobs: [...running, ...queued], requeuedRunning: running.length};
}

function parseOriginalStatus(status: Record<string, unknown>, cwd: string): ImportedStatus {
	const jobs: NewJob[] = [];
	const workers: NewWorker[] = [];
	for (const [index, entry] of list(status['slaves'] ?? [], 'slaves').entries()) {
		const slave = object(entry, `slaves[${index}]`);
		const runningJob = slave['running_job'];
		if (runningJob !== null && runningJob !== undefined) {
			const where = `slaves[${index}].running_job`;
			const job = object(runningJob, where);
			// The original passes JobInfo's arguments in the wrong order: it prints the command under
			// "envs" and the job's env under "script". Whichever of the two is the list is the command.
			const [command, env] = Array.isArray(job['envs']) ? [job['envs'], job['script']] : [job['script'], job['envs']];
			if (!Array.isArray(command)) throw new UserError(`${where} has no command: neither "script" nor "envs" is a list`);
			jobs.push(originalCommand(command, env, where, cwd));
		}

		// A worker that was to go once its job ended has nothing left to do here.
		if (slave['remove_after_finish'] === true) continue;
		workers.push({name: string(slave['ip'], `slaves[${index}].ip`), env: originalEnv(slave['envs'])});
	}

	const requeuedRunning = jobs.length;
	for (const [index, entry] of list(status['job_waitlist'] ?? [], 'job_waitlist').entries()) {
		const where = `job_waitlist[${index}]`;
		const item = list(entry, where);
		// Either [script, args…] or [[script, args…], [NAME=VALUE…]].
		jobs.push(Array.isArray(item[0]) ? originalCommand(item[0], item[1] ?? [], where, cwd) : originalCommand(item, [], where, cwd));
	}

	return {workers, jobs, requeuedRunning};
}

function originalCommand(command: unknown, env: unknown, where: string, cwd: string): NewJob {
	const [script, ...args] = list(command, where).map((part, index) => string(part, `${where}[${index}]`));
	if (script === undefined) throw new UserError(`${where} has no script`);
	return {script, args, env: originalEnv(env), cwd};
}

/** The original kept env as an object on workers and as NAME=VALUE strings on jobs. */
function originalEnv(env: unknown): EnvVars {
	if (Array.isArray(env)) return parseEnvAssignments(env.map((entry, index) => string(entry, `env[${index}]`)));
	return checkEnv(env);
}

function list(value: unknown, where: string): unknown[] {
	if (!Array.isArray(value)) throw new UserError(`${where} must be a list`);
	return value;
}

function object(value: unknown, where: string): Record<string, unknown> {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${where} must be an object`);
	return value as Record<string, unknown>;
}

function string(value: unknown, where: string): string {
	if (typeof value !== 'string') throw new UserError(`${where} must be a string`);
	return value;
}
