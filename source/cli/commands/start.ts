import {serveScheduler} from '../../control/control-server.js';
import type {SchedulerEvent} from '../../core/scheduler.js';
import {Engine} from '../../engine/engine.js';
import {formatEvent} from '../format.js';

export type StartOptions = {
	dataDir: string;
	logDir: string;
	headless: boolean;
	json: boolean;
};

/**
 * Runs a scheduler until it is stopped: by `jobdeck stop`, SIGTERM or SIGINT,
 * or by quitting the UI. Stopping never kills running jobs.
 */
export async function start(options: StartOptions): Promise<void> {
	const engine = await Engine.start({dataDir: options.dataDir, logDir: options.logDir});
	const server = await serveScheduler(engine, engine.dataDir);
	const stopOnSignal = () => {
		void engine.stop();
	};

	process.on('SIGTERM', stopOnSignal);
	process.on('SIGINT', stopOnSignal);
	process.on('SIGHUP', stopOnSignal);
	try {
		if (options.headless || !process.stdout.isTTY || !process.stdin.isTTY) {
			printEvents(engine, options.json);
			console.log(options.json
				? JSON.stringify({type: 'started', at: Date.now(), dataDir: engine.dataDir, logDir: engine.logDir, pid: process.pid})
				: `jobdeck scheduler running on ${engine.dataDir} (logs in ${engine.logDir}), pid ${process.pid}`);
		} else {
			const {runUi} = await import('../../ui/run-ui.js');
			await runUi({scheduler: engine, dataDir: engine.dataDir, logDir: engine.logDir});
			await engine.stop();
		}

		await engine.stopped;
	} finally {
		await server.close();
		process.off('SIGTERM', stopOnSignal);
		process.off('SIGINT', stopOnSignal);
		process.off('SIGHUP', stopOnSignal);
	}
}

function printEvents(engine: Engine, json: boolean): void {
	const print = (event: SchedulerEvent) => {
		if (json) return [JSON.stringify(event)];
		const time = new Date(event.at).toISOString();
		return formatEvent(event).map(line => `${time} ${line}`);
	};

	engine.subscribe(events => {
		const lines = events.flatMap(print);
		if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
	});
}
