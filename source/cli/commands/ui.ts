import {resolve} from 'node:path';
import {attachToScheduler} from '../../control/reconnecting-client.js';
import {UserError} from '../../core/user-error.js';

/**
 * The full-screen UI on the scheduler already running on a data dir, through
 * its control socket. Quitting leaves that scheduler running; the screen
 * outlives it being stopped or restarted, and follows the next one.
 */
export async function attachUi(dataDir: string, greeting?: string): Promise<void> {
	const scheduler = await attachToScheduler(resolve(dataDir));
	try {
		// A scheduler of another version refuses every request: one line says so, rather than a screen that cannot work.
		const {dataDir: schedulerDataDir, logDir} = await scheduler.snapshot({queue: false});
		if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UserError('ui needs a terminal: `jobdeck events` prints what happens, `jobdeck status` the state');
		const {runUi} = await import('../../ui/run-ui.js');
		await runUi({scheduler, dataDir: schedulerDataDir, logDir, quitting: 'leaves', greeting});
	} finally {
		scheduler.close();
	}
}
