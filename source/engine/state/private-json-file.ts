import {readFile, rename, writeFile, copyFile, unlink} from 'node:fs/promises';
import type {Adapter} from 'lowdb';

/**
 * A lowdb adapter for the state file. Like lowdb's own JSONFile it replaces
 * the file atomically (a temp file renamed over it), but the file is created
 * owner-only, because whoever can read the state sees every job's env, and it
 * keeps the previous version next to it as `<file>.prev`, the copy to recover
 * from if the file is ever damaged. JSON is written compact: the queue can
 * hold a hundred thousand jobs.
 */
export class PrivateJsonFile<T> implements Adapter<T> {
	readonly path: string;
	readonly previousPath: string;
	readonly #tempPath: string;

	constructor(path: string) {
		this.path = path;
		this.previousPath = `${path}.prev`;
		this.#tempPath = `${path}.tmp`;
	}

	async read(): Promise<T | null> {
		let text: string;
		try {
			text = await readFile(this.path, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
			throw error;
		}

		return JSON.parse(text) as T;
	}

	async write(data: T): Promise<void> {
		try {
			await writeFile(this.#tempPath, JSON.stringify(data), {mode: 0o600});
		} catch (error) {
			await unlink(this.#tempPath).catch(() => undefined);
			throw error;
		}

		await copyFile(this.path, this.previousPath).catch((error: NodeJS.ErrnoException) => {
			if (error.code !== 'ENOENT') throw error;
		});
		await rename(this.#tempPath, this.path);
	}
}
