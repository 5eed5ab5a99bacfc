import type {Worker} from '../../core/model.js';
import type {AddWorkersRequest, RemoveWorkerMode, SchedulerEvent} from '../../core/scheduler.js';
import {UserError} from '../../core/user-error.js';
import {checkTags, describeString} from '../../core/validation.js';
import {change, refuseWhenStopping, type EngineContext} from '../engine-context.js';
import {checkNewWorker} from '../new-entry-checks.js';
import {probeWorker} from '../ssh-probe.js';
import type {StateChange} from '../state/scheduler-state.js';

// The worker commands: add, remove, drain and enable, tag.

export async function addWorkers(context: EngineContext, request: AddWorkersRequest): Promise<Worker[]> {
	refuseWhenStopping(context);
	const now = Date.now();
	const workers = request.workers.map(entry => ({...checkNewWorker(entry, now), sshChecked: !request.skipSshCheck}));
	if (workers.length === 0) throw new UserError('no worker name given');
	refuseDuplicateWorkers(context, workers);
	if (!request.skipSshCheck) {
		await Promise.all(workers.map(async worker => probeWorker(worker.name, worker.env)));
		// Somebody may have added one of them while ssh was answering.
		refuseDuplicateWorkers(context, workers);
	}

	const saved = change(context, [{type: 'workers-added', workers}], [{type: 'workers-added', workers, at: now}]);
	context.scheduleDispatch();
	await saved;
	return workers;
}

export async function removeWorkers(context: EngineContext, names: string[], mode: RemoveWorkerMode): Promise<void> {
	refuseWhenStopping(context);
	// `remove-worker a a` removes a once, and journals it once.
	const workers = [...new Set(names)].map(name => existingWorker(context, name));
	const busy = workers.filter(worker => (context.state.busySlots.get(worker.name) ?? 0) > 0);
	const [worker] = busy;
	if (mode === 'now' && worker) {
		throw new UserError(`worker ${worker.name} is running ${describeRunsOn(context, worker.name)}: use --wait to remove it when that ends, or --kill to cancel it`);
	}

	const changes: StateChange[] = [];
	const events: SchedulerEvent[] = [];
	const at = Date.now();
	for (const worker of workers) {
		if (busy.includes(worker)) {
			changes.push({type: 'worker-flags', name: worker.name, removeWhenIdle: true});
			events.push({type: 'worker-updated', worker: {...worker, removeWhenIdle: true}, at});
		} else {
			changes.push({type: 'worker-removed', name: worker.name});
			events.push({type: 'worker-removed', name: worker.name, at});
		}
	}

	await change(context, changes, events);
	if (mode === 'kill') {
		const ids = [...context.state.running.values()].filter(run => names.includes(run.worker)).map(run => run.id);
		if (ids.length > 0) await context.cancelJobs(ids);
	}
}

export async function setWorkersDrained(context: EngineContext, names: string[], drained: boolean): Promise<void> {
	refuseWhenStopping(context);
	const workers = [...new Set(names)].map(name => existingWorker(context, name));
	const at = Date.now();
	const changes: StateChange[] = workers.map(worker => ({type: 'worker-flags', name: worker.name, drained}));
	const events: SchedulerEvent[] = [];
	for (const worker of workers) {
		// `enable` is also how a user vouches for a worker the scheduler took offline.
		if (!drained && worker.offline) {
			changes.push({type: 'worker-health', name: worker.name, unreachableStreak: 0, offline: null, failedRechecks: 0});
			events.push({type: 'worker-online', name: worker.name, how: 'enabled', at});
		}
	}

	const saved = context.store.apply(changes);
	context.bus.publishWhenSaved(saved, [...workers.map(worker => ({type: 'worker-updated' as const, worker, at})), ...events]);
	await saved;
	if (!drained) context.scheduleDispatch();
}

export async function tagWorkers(context: EngineContext, names: string[], add: string[], remove: string[]): Promise<Worker[]> {
	refuseWhenStopping(context);
	if (names.length === 0) throw new UserError('no worker name given');
	const added = checkTags(add);
	const removed = checkTags(remove);
	if (added.length === 0 && removed.length === 0) throw new UserError('no tag given: write +TAG to add one, -TAG to remove one');
	const both = added.find(tag => removed.includes(tag));
	if (both !== undefined) throw new UserError(`tag ${describeString(both)} is both added and removed`);
	const workers = [...new Set(names)].map(name => existingWorker(context, name));
	const at = Date.now();
	const changes: StateChange[] = workers.map(worker => ({
		type: 'worker-tags',
		name: worker.name,
		tags: [...new Set([...(worker.tags ?? []), ...added])].filter(tag => !removed.includes(tag)).sort(),
	}));
	const saved = context.store.apply(changes);
	const updated = workers.map(worker => ({...worker}));
	context.bus.publishWhenSaved(saved, updated.map(worker => ({type: 'worker-updated' as const, worker, at})));
	context.scheduleDispatch();
	await saved;
	return updated;
}

function refuseDuplicateWorkers(context: EngineContext, workers: Worker[]): void {
	const names = new Set<string>();
	for (const worker of workers) {
		if (context.state.workers.has(worker.name) || names.has(worker.name)) {
			throw new UserError(`worker ${describeString(worker.name)} already exists`);
		}

		names.add(worker.name);
	}
}

function existingWorker(context: EngineContext, name: string): Worker {
	const worker = context.state.workers.get(name);
	if (!worker) throw new UserError(`there is no worker named ${describeString(name)}`);
	return worker;
}

function describeRunsOn(context: EngineContext, worker: string): string {
	const ids = [...context.state.running.values()].filter(run => run.worker === worker).map(run => run.id);
	return `job${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`;
}
