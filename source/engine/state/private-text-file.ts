import {readFile} from 'node:fs/promises';
import type {Adapter} from 'lowdb';
import {replaceFile, type Durability} from './durable-file.js';

/**
 * The snapshot file, holding its text: the state file's adapter serialises the
 * snapshot itself, at the one moment the state matches the journal, so that
 * what is written is that moment and not whatever the state became while the
 * write waited. Like lowdb's own TextFile it replaces the file atomically (a
 * temp file renamed over it), but durably (synced before the rename, the
 * directory after), owner-only, because whoever can read the state sees every
 * job's env, and each write also leaves a second, separate copy next to it as
 * `<file>.prev`: the copy to recover from if the file is ever damaged. Being
 * the same snapshot, it fits the journal that follows it, so nothing is lost
 * by recovering from it.
 */
export class PrivateTextFile implements Adapter<string> {
	readonly path: string;
	readonly previousPath: string;
	readonly #durability: Durability;

	constructor(path: string, durability: Durability) {
		this.path = path;
		this.previousPath = `${path}.prev`;
		this.#durability = durability;
	}

	async read(): Promise<string | null> {
		try {
			return await readFile(this.path, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
			throw error;
		}
	}

	/** Until both copies are written, the journal must not be cut: either copy may be the old one. */
	async write(text: string): Promise<void> {
		await replaceFile(this.path, text, this.#durability);
		await replaceFile(this.previousPath, text, this.#durability);
	}
}
