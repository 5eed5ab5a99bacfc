import type {RemoveWorkerMode} from '../../core/scheduler.js';
import {UserError} from '../../core/user-error.js';
import {checkSlots, checkTags, parseEnvAssignments} from '../../core/validation.js';
import {withScheduler} from '../connect.js';

export async function addWorkers(dataDir: string, names: string[], options: {skipSshCheck: boolean; env: string[]; slots: string; tags: string[]}): Promise<void> {
	const env = parseEnvAssignments(options.env);
	const slots = checkSlots(options.slots);
	const tags = checkTags(options.tags);
	const workers = await withScheduler(dataDir, async scheduler => scheduler.addWorkers({
		workers: names.map(name => ({name, slots, env, ...(tags.length > 0 && {tags})})),
		skipSshCheck: options.skipSshCheck,
	}));
	for (const worker of workers) console.log(`added worker ${worker.name} (${worker.slots} slot${worker.slots === 1 ? '' : 's'}${describeTags(worker.tags)})`);
}

/** `jobdeck tag NAME… +TAG -TAG`: names and tags in any order, told apart by the sign. */
export async function tagWorkers(dataDir: string, items: string[]): Promise<void> {
	const names = items.filter(item => !item.startsWith('+') && !item.startsWith('-'));
	const add = checkTags(items.filter(item => item.startsWith('+')).map(item => item.slice(1)));
	const remove = checkTags(items.filter(item => item.startsWith('-')).map(item => item.slice(1)));
	if (names.length === 0) throw new UserError('no worker name given: jobdeck tag NAME… +TAG -TAG');
	if (add.length === 0 && remove.length === 0) throw new UserError('no tag given: write +TAG to add one, -TAG to remove one');
	const workers = await withScheduler(dataDir, async scheduler => scheduler.tagWorkers(names, add, remove));
	for (const worker of workers) console.log(`${worker.name}: ${worker.tags?.join(' ') ?? '(no tags)'}`);
}

function describeTags(tags: string[] | undefined): string {
	return tags ? `; tags ${tags.join(' ')}` : '';
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
