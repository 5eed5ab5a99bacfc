import type {RemoveWorkerMode} from '../../core/scheduler.js';
import {checkSlots, parseEnvAssignments} from '../../core/validation.js';
import {withScheduler} from '../connect.js';

export async function addWorkers(dataDir: string, names: string[], options: {skipSshCheck: boolean; env: string[]; slots: string}): Promise<void> {
	const env = parseEnvAssignments(options.env);
	const slots = checkSlots(options.slots);
	const workers = await withScheduler(dataDir, async scheduler => scheduler.addWorkers({
		workers: names.map(name => ({name, slots, env})),
		skipSshCheck: options.skipSshCheck,
	}));
	for (const worker of workers) console.log(`added worker ${worker.name} (${worker.slots} slot${worker.slots === 1 ? '' : 's'})`);
}

export async function removeWorkers(dataDir: string, names: string[], mode: RemoveWorkerMode): Promise<void> {
	await withScheduler(dataDir, async scheduler => scheduler.removeWorkers(names, mode));
	const how = {now: 'removed', wait: 'removed (busy ones once their jobs end)', kill: 'removed (their jobs cancelled)'}[mode];
	console.log(`${how}: ${names.join(' ')}`);
}

export async function setDrained(dataDir: string, names: string[], drained: boolean): Promise<void> {
	await withScheduler(dataDir, async scheduler => scheduler.setWorkersDrained(names, drained));
	console.log(`${drained ? 'disabled (draining)' : 'enabled'}: ${names.join(' ')}`);
}
