import {readFile, rename, unlink, writeFile} from 'node:fs/promises';
import type {Adapter} from 'lowdb';

/**
 * A lowdb adapter for the state file, holding its text: the store serialises
 * the snapshot itself, at the one moment the state matches the journal, so
 * that what is written is that moment and not whatever the state became while
 * the write waited. Like lowdb's own TextFile it replaces the file atomically
 * (a temp file renamed over it), but the file is created owner-only, because
 * whoever can read the state sees every job's env, and each write also leaves
 * a second, separate copy next to it as `<file>.prev`: the copy to recover
 * from if the file is ever damaged. Being the same snapshot, it fits the
 * journal that follows it, so nothing is lost by recovering from it.
 */
export class PrivateTextFile implements Adapter<string> {
	readonly path: string;
	readonly previousPath: string;

	constructor(path: string) {
		this.path = path;
		this.previousPath = `${path}.prev`;
	}

	async read(): Promise<string | null> {
		try {
			return await readFile(this.path, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
			throw error;
		}
	}

	async write(text: string): Promise<void> {
		await replaceFile(this.path, text);
		await replaceFile(this.previousPath, text);
	}
}

/** Writes a temp file and renames it over `path`: readers see the old file or the new one, never half of one. */
async function replaceFile(path: string, text: string): Promise<void> {
	const temporary = `${path}.tmp`;
	try {
		await writeFile(temporary, text, {mode: 0o600});
	} catch (error) {
		await unlink(temporary).catch(() => undefined);
		throw error;
	}

	await rename(temporary, path);
}
