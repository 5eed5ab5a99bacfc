import {UserError} from '../../core/user-error.js';
import {describeString} from '../../core/validation.js';
import {change, refuseWhenStopping, type EngineContext} from '../engine-context.js';
import {checkNewJobs, checkNewWorker} from '../new-entry-checks.js';
import {parseStatus} from '../status-import.js';

// Pausing the queue, and replacing the state with a status file (`load-status`).

export async function setPaused(context: EngineContext, paused: boolean): Promise<void> {
	refuseWhenStopping(context);
	if (context.state.paused === paused) return;
	await change(context, [{type: 'paused', paused}], [{type: paused ? 'paused' : 'resumed', at: Date.now()}]);
	if (!paused) context.scheduleDispatch();
}

export async function loadStatus(context: EngineContext, status: unknown, cwd: string): Promise<void> {
	refuseWhenStopping(context);
	if (context.state.running.size > 0) {
		throw new UserError(`${context.state.running.size} job(s) are running: wait for them (or cancel them) before replacing the state`);
	}

	const imported = parseStatus(status, cwd);
	const now = Date.now();
	const workers = imported.workers.map(entry => checkNewWorker(entry, now));
	const names = new Set<string>();
	for (const worker of workers) {
		if (names.has(worker.name)) throw new UserError(`worker ${describeString(worker.name)} appears twice in the status`);
		names.add(worker.name);
	}

	const checked = await checkNewJobs(imported.jobs);
	let id = context.state.nextJobId;
	const queue = checked.map(job => ({id: id++, ...job, queuedAt: now}));
	const saved = change(context, [{type: 'state-replaced', workers, queue, nextJobId: id}], [{type: 'state-loaded', at: now}]);
	context.scheduleDispatch();
	await saved;
}
