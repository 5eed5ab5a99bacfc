import {constants} from 'node:fs';
import {mkdir, open, rename, unlink, type FileHandle} from 'node:fs/promises';
import {dirname} from 'node:path';
import type {FinishedRun} from '../../core/model.js';

// Writing the state files so that what is acknowledged survives a power cut.
// A file's data is on disk only after fdatasync, and a new name (a created
// file, a rename) only after an fsync of its directory: ext4 may forget either
// at a power cut otherwise. `sync: false` (a scratch data dir) skips both.

export type Durability = {sync: boolean};

/** Makes a file's data (and its size) durable. */
export async function syncData(handle: FileHandle, durability: Durability): Promise<void> {
	if (durability.sync) await handle.datasync();
}

/** Makes the names in a directory (files created, renamed or removed in it) durable. */
export async function syncDirectory(path: string, durability: Durability): Promise<void> {
	if (!durability.sync) return;
	const directory = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
	try {
		await directory.sync();
	} finally {
		await directory.close();
	}
}

/**
 * Opens a file for appending, creating it owner-only; a file it creates is
 * made durable in its directory. `writeThrough` (with sync on): every write
 * is on disk when it returns (O_DSYNC), which spares a separate fdatasync its
 * trip through libuv's thread pool, on the path of every acknowledgement.
 */
export async function openForAppend(path: string, durability: Durability, {writeThrough = false} = {}): Promise<FileHandle> {
	const flags = constants.O_RDWR | constants.O_APPEND | (writeThrough && durability.sync ? constants.O_DSYNC : 0);
	try {
		return await open(path, flags, 0o600);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}

	const handle = await open(path, flags | constants.O_CREAT, 0o600);
	try {
		await syncDirectory(dirname(path), durability);
	} catch (error) {
		await handle.close();
		throw error;
	}

	return handle;
}

/**
 * Replaces a file by a new one, atomically and durably: a temp file written,
 * its data synced, renamed over the file, the directory synced. Synced before
 * the rename, or a power cut can leave the new name on an empty file.
 */
export async function replaceFile(path: string, data: string | Buffer, durability: Durability): Promise<void> {
	const temporary = `${path}.tmp`;
	try {
		const handle = await open(temporary, 'w', 0o600);
		try {
			await handle.writeFile(data);
			await syncData(handle, durability);
		} finally {
			await handle.close();
		}
	} catch (error) {
		await unlink(temporary).catch(() => undefined);
		throw error;
	}

	await rename(temporary, path);
	await syncDirectory(dirname(path), durability);
}

export async function readFirstLine(handle: FileHandle): Promise<string> {
	const buffer = Buffer.alloc(64 * 1024);
	const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0);
	const text = buffer.subarray(0, bytesRead).toString('utf8');
	return text.slice(0, Math.max(0, text.indexOf('\n')));
}

export function isHistoryLine(line: string): boolean {
	try {
		const run = JSON.parse(line) as Partial<FinishedRun> | null;
		return typeof run === 'object' && run !== null && typeof run.runId === 'number' && typeof run.id === 'number';
	} catch {
		return false;
	}
}

export async function appendAll(handle: FileHandle, text: string, expectedSize: number): Promise<number> {
	const buffer = Buffer.from(text);
	let written = 0;
	try {
		while (written < buffer.length) {
			const result = await handle.write(buffer, written, buffer.length - written, null);
			written += result.bytesWritten;
		}
	} catch (error) {
		// Never leave half a line behind: the next append would glue onto it.
		await handle.truncate(expectedSize).catch(() => undefined);
		throw error;
	}

	return expectedSize + buffer.length;
}

/** mkdir -p whose new directories survive a power cut: the parent of each one it made is synced. */
export async function makeDirectory(path: string, mode: number, durability: Durability): Promise<void> {
	const first = await mkdir(path, {recursive: true, mode});
	if (first === undefined) return;
	for (let made = path; ; made = dirname(made)) {
		await syncDirectory(dirname(made), durability);
		if (made === first || dirname(made) === made) break;
	}
}
