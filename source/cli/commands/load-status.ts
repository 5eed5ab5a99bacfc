import {readFile} from 'node:fs/promises';
import {UserError} from '../../core/user-error.js';
import {withScheduler} from '../connect.js';

export async function loadStatus(dataDir: string, file: string): Promise<void> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		throw new UserError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}

	let status: unknown;
	try {
		status = JSON.parse(text);
	} catch (error) {
		throw new UserError(`${file} is not JSON: ${(error as Error).message}`);
	}

	await withScheduler(dataDir, async scheduler => scheduler.loadStatus(status, process.cwd()));
	console.log(`loaded ${file}`);
}
