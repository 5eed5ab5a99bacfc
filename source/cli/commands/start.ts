import {resolve} from 'node:path';
import {connectToScheduler} from '../../control/control-client.js';
import {serveScheduler} from '../../control/control-server.js';
import {Engine} from '../../engine/engine.js';
import type {HealthPolicy} from '../../engine/worker-health.js';
import {UserError} from '../../core/user-error.js';
import {parseDuration} from '../../core/validation.js';
import {parseRetentionDuration, parseRunCount, type RetentionChange} from '../../core/retention.js';
import {eventLines} from '../plain-text.js';
import {onReaderGone} from '../reader-gone.js';
import {continueInBackground} from './background-scheduler.js';
import {outputRotation, schedulerLogMaxBytes} from '../output-rotation.js';
import {reportError} from '../report-error.js';

export type StartOptions = {
	dataDir: string;
	logDir: string;
	headless: boolean;
	json: boolean;
	/** The worker health rule, as typed on the command line. */
	offlineAfter?: string;
	unreachableExitCode?: string;
	recheckOffline?: string;
	/** false (`--no-sync`): never fsync the state. */
	sync?: boolean;
	/** Retention, as typed: a number of runs / a duration, or "off". */
	keepFinished?: string;
	keepFor?: string;
	/** The file stdout is appended to, by a scheduler that went on in the background: rotated at a size. */
	rotateOutput?: string;
};

/**
 * Runs a scheduler until it is stopped: by `jobdeck stop`, SIGTERM or SIGINT,
 * or by quitting the UI. Stopping never kills running jobs.
 */
export async function start(options: StartOptions): Promise<void> {
	const health = healthPolicyOf(options);
	const retention = retentionOf(options);
	const interactive = !options.headless && process.stdout.isTTY && process.stdin.isTTY;
	if (interactive && await schedulerAnswers(options.dataDir)) {
		// On a terminal, a second `start` means "show me the scheduler": attach to it rather than refuse.
		const {attachUi} = await import('./ui.js');
		const notice = `a scheduler already runs on ${resolve(options.dataDir)}: attached to it (q leaves it running)`;
		await attachUi(options.dataDir, notice);
		console.log(`jobdeck: ${notice}`);
		return;
	}

	const engine = await Engine.start({dataDir: options.dataDir, logDir: options.logDir, health, sync: options.sync !== false, retention});
	const server = await serveScheduler(engine, engine.dataDir);
	const stopOnSignal = () => {
		// A final snapshot without room (a full disk) is one line: the journal still holds everything.
		engine.stop().catch((error: unknown) => {
			process.exitCode = reportError(error);
		});
	};

	process.on('SIGTERM', stopOnSignal);
	process.on('SIGINT', stopOnSignal);
	process.on('SIGHUP', stopOnSignal);
	// `start --headless | head`: stop as on SIGTERM, so that the next start finds everything saved and adopts the jobs.
	onReaderGone(stopOnSignal);
	let detached = false;
	try {
		if (!interactive) {
			const written = options.rotateOutput === undefined ? undefined : outputRotation(options.rotateOutput, schedulerLogMaxBytes());
			printEvents(engine, options.json, written);
			console.log(options.json
				? JSON.stringify({type: 'started', at: Date.now(), dataDir: engine.dataDir, logDir: engine.logDir, pid: process.pid})
				: `jobdeck scheduler running on ${engine.dataDir} (logs in ${engine.logDir}), pid ${process.pid}`);
		} else {
			const {runUi} = await import('../../ui/run-ui.js');
			({detach: detached} = await runUi({scheduler: engine, dataDir: engine.dataDir, logDir: engine.logDir, quitting: 'offers-detach'}));
			await engine.stop();
		}

		await engine.stopped;
	} finally {
		await server.close();
		process.off('SIGTERM', stopOnSignal);
		process.off('SIGINT', stopOnSignal);
		process.off('SIGHUP', stopOnSignal);
	}

	if (detached) {
		// The engine has let go of the data dir (lock, socket); the running jobs go on and the new scheduler adopts them.
		const {pid, logFile} = await continueInBackground(engine.dataDir, engine.logDir, healthFlagsOf(options));
		console.log(`jobdeck: the scheduler keeps running in the background (pid ${pid}, its output in ${logFile}): \`jobdeck ui --data-dir ${engine.dataDir}\` shows it, \`jobdeck stop\` stops it`);
	}
}

async function schedulerAnswers(dataDir: string): Promise<boolean> {
	try {
		(await connectToScheduler(resolve(dataDir))).close();
		return true;
	} catch {
		return false;
	}
}

/** The health rule's flags (and --no-sync) as the user typed them, for the scheduler that takes over. */
function healthFlagsOf(options: StartOptions): string[] {
	return [
		...(options.offlineAfter === undefined ? [] : ['--offline-after', options.offlineAfter]),
		...(options.unreachableExitCode === undefined ? [] : ['--unreachable-exit-code', options.unreachableExitCode]),
		...(options.recheckOffline === undefined ? [] : ['--recheck-offline', options.recheckOffline]),
		...(options.sync === false ? ['--no-sync'] : []),
		// The policy is saved in the state: the scheduler that takes over reads it there.
	];
}

/**
 * The retention flags, checked before anything starts. Only the flags given
 * change the saved policy (null lifts a bound): `--keep-for 7d` alone keeps a
 * saved --keep-finished.
 */
function retentionOf(options: StartOptions): RetentionChange | undefined {
	if (options.keepFinished === undefined && options.keepFor === undefined) return undefined;
	const change: RetentionChange = {};
	if (options.keepFinished !== undefined) change.keepFinished = options.keepFinished === 'off' ? null : parseRunCount(options.keepFinished, '--keep-finished');
	if (options.keepFor !== undefined) {
		change.keepForMs = options.keepFor === 'off' ? null : parseRetentionDuration(options.keepFor, '--keep-for');
		if (change.keepForMs !== null && change.keepForMs < 1000) throw new UserError(`--keep-for must be at least 1s, not ${JSON.stringify(options.keepFor)}`);
	}

	return change;
}

function healthPolicyOf(options: StartOptions): Partial<HealthPolicy> {
	const health: Partial<HealthPolicy> = {};
	if (options.offlineAfter !== undefined) {
		if (!/^\d+$/.test(options.offlineAfter) || Number(options.offlineAfter) > 1000) throw new UserError(`--offline-after must be a whole number from 0 to 1000, not ${JSON.stringify(options.offlineAfter)}`);
		health.offlineAfter = Number(options.offlineAfter);
	}

	if (options.unreachableExitCode !== undefined) {
		if (!/^\d+$/.test(options.unreachableExitCode) || Number(options.unreachableExitCode) < 1 || Number(options.unreachableExitCode) > 255) {
			throw new UserError(`--unreachable-exit-code must be an exit code from 1 to 255, not ${JSON.stringify(options.unreachableExitCode)}`);
		}

		health.unreachableExitCode = Number(options.unreachableExitCode);
	}

	if (options.recheckOffline !== undefined) {
		health.recheckAfterMs = parseDuration(options.recheckOffline);
		if (health.recheckAfterMs < 100) throw new UserError('--recheck-offline must be at least 100ms');
	}

	return health;
}

function printEvents(engine: Engine, json: boolean, written?: (bytes: number) => void): void {
	engine.subscribe(events => {
		const lines = events.flatMap(event => eventLines(event, json));
		if (lines.length === 0) return;
		const text = lines.join('\n') + '\n';
		process.stdout.write(text);
		written?.(Buffer.byteLength(text));
	});
}
