import {resolve} from 'node:path';
import {connectToScheduler} from '../../control/control-client.js';
import {UserError} from '../../core/user-error.js';
import {eventLines} from '../plain-text.js';

/**
 * Prints the scheduler's events as they happen, until interrupted or until
 * the scheduler stops: for scripts, monitoring and notifications.
 */
export async function events(dataDir: string, json: boolean): Promise<void> {
	const scheduler = await connectToScheduler(resolve(dataDir));
	let stopping = false;
	let finish: (error?: Error) => void = () => undefined;
	const ended = new Promise<void>((resolveEnded, reject) => {
		finish = error => {
			if (error) reject(error);
			else resolveEnded();
		};
	});
	const interrupted = () => {
		scheduler.close();
		finish();
	};

	scheduler.subscribe(batch => {
		const lines = batch.flatMap(event => {
			if (event.type === 'stopping') stopping = true;
			return eventLines(event, json);
		});
		if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
	});
	scheduler.onDisconnect(error => {
		if (error) finish(error);
		// A scheduler that said it was stopping ended the stream as it should; one that vanished did not.
		else if (stopping) finish();
		else finish(new UserError(`the scheduler on ${resolve(dataDir)} went away without stopping`));
	});
	process.on('SIGINT', interrupted);
	process.on('SIGTERM', interrupted);
	try {
		await ended;
	} finally {
		process.off('SIGINT', interrupted);
		process.off('SIGTERM', interrupted);
	}
}
