import {link, readFile, rename, unlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {UserError} from '../core/user-error.js';
import {isProcessAlive, readProcessStat} from './job-process.js';

// One scheduler per data dir: two would both write the state and both hand
// out the same jobs. The lock names its owner by pid and process start time,
// so a lock left by a scheduler that crashed (or was SIGKILLed) is recognised
// as stale and taken over, while a recycled pid is not mistaken for the owner.

type LockOwner = {pid: number; startTime: number | undefined};

export type DataDirLock = {release(): Promise<void>};

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
	const path = join(dataDir, 'scheduler.lock');
	const me: LockOwner = {pid: process.pid, startTime: readProcessStat(process.pid)?.startTime};
	const mine = `${path}.${process.pid}`;
	await writeFile(mine, JSON.stringify(me), {mode: 0o600});
	try {
		for (let attempt = 0; attempt < 3; attempt++) {
			try {
				await link(mine, path); // Atomic: fails if anybody holds the lock.
				return {release: async () => unlink(path).catch(() => undefined)};
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			}

			const owner = await readLockOwner(path);
			if (owner && isProcessAlive(owner.pid, owner.startTime)) {
				throw new UserError(`a scheduler (pid ${owner.pid}) is already running on ${dataDir}`);
			}

			await takeOverStaleLock(path, owner);
		}

		throw new UserError(`could not lock ${dataDir}: another scheduler is starting on it at the same time`);
	} finally {
		await unlink(mine).catch(() => undefined);
	}
}

/** Reads who holds the lock; undefined when it does not say (a lock cut short counts as stale). */
export async function readLockOwner(path: string): Promise<LockOwner | undefined> {
	try {
		const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
		return typeof owner.pid === 'number' ? {pid: owner.pid, startTime: owner.startTime} : undefined;
	} catch {
		return undefined;
	}
}

async function takeOverStaleLock(path: string, staleOwner: LockOwner | undefined): Promise<void> {
	const aside = `${path}.stale.${process.pid}`;
	try {
		await rename(path, aside);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
		throw error;
	}

	// Another starter may have replaced the stale lock with its live one just before our rename: give it back.
	const moved = await readLockOwner(aside);
	if (moved?.pid !== staleOwner?.pid && moved && isProcessAlive(moved.pid, moved.startTime)) {
		await link(aside, path).catch(() => undefined);
	}

	await unlink(aside).catch(() => undefined);
}
