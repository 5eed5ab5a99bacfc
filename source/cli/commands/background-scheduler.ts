import {present} from '../../core/present.js';
import {closeSync, openSync} from 'node:fs';
import {join} from 'node:path';
import {execa} from 'execa';
import {connectToScheduler} from '../../control/control-client.js';
import {UserError} from '../../core/user-error.js';

/** How long the background scheduler has to answer on the socket. */
const answerWithinMs = 15_000;

/**
 * Starts `jobdeck start --headless` on a data dir no scheduler holds any
 * more, in a session of its own so that it outlives the terminal, with its
 * output appended to a file in the data dir, which it keeps bounded
 * (output-rotation.ts). Resolves once it answers.
 */
export async function continueInBackground(dataDir: string, logDir: string, extraFlags: string[]): Promise<{pid: number; logFile: string}> {
	const logFile = join(dataDir, 'scheduler.log');
	const output = openSync(logFile, 'a', 0o600);
	let exited: string | undefined;
	try {
		// Raw file descriptors and no cleanup: the scheduler must not depend on this process in any way.
		const child = execa(process.execPath, [present(process.argv[1], 'the path of the jobdeck command'), 'start', '--headless', '--data-dir', dataDir, '--log-dir', logDir, '--rotate-output', logFile, ...extraFlags], {
			detached: true,
			cleanup: false,
			reject: false,
			buffer: false,
			stdio: ['ignore', output as 3, output as 3],
		});
		void child.then(result => {
			exited = result.signal ?? `exit ${result.exitCode}`;
		});
		child.unref();
		const deadline = Date.now() + answerWithinMs;
		for (;;) {
			try {
				(await connectToScheduler(dataDir)).close();
				return {pid: present(child.pid, 'the background scheduler\'s pid'), logFile};
			} catch {
				// It does not answer yet: asked again until the deadline.
			}

			if (exited !== undefined || Date.now() > deadline) {
				throw new UserError(`the background scheduler did not start (${exited ?? 'no answer'}): see ${logFile}; running jobs are adopted by the next \`jobdeck start\``);
			}

			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
		}
	} finally {
		closeSync(output);
	}
}
