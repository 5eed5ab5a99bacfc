import {mkdir} from 'node:fs/promises';
import {dirname} from 'node:path';
import type {EngineContext} from './engine-context.js';
import {DirGuard} from './dir-guard.js';
import type {RunFile, RunFileFault} from './job-starter/protocol.js';
import {makeDirPrivate} from './private-dir.js';
import {syncDirectory} from './state/durable-file.js';

// The two dirs the job starter makes each run's files in, before it forks
// the run's wrapper: the log dir (its log) and the data dir's runs/ (its exit
// file). Each has its own guard and fault (`logs`, `exit-files`); a file
// that could not be made goes to its dir's guard.
//
// A dir that is gone is made again only where its parent still is (no
// `mkdir -p`): a data dir or log dir whose disk went away (unmounted, a
// power cut) must not come back on the disk beneath its mount point, where
// the next mount would hide it, or refuse to mount over it.

/** Each guard's epoch when a run's start was asked for. */
export type RunFileEpochs = Readonly<Record<RunFile, number>>;

/** How a run's file is named in words (`its exit file could not be made`). */
export const runFileWords: Readonly<Record<RunFile, string>> = {log: 'log', 'exit-file': 'exit file'};

export class RunFileDirs {
	readonly #guards: Readonly<Record<RunFile, DirGuard>>;

	constructor(context: EngineContext) {
		const {logDir, runsDir} = context;
		this.#guards = {
			log: new DirGuard(context, {
				path: logDir,
				fault: 'logs',
				files: 'logs',
				name: 'log dir',
				async remake() {
					await mkdir(logDir, {mode: 0o700});
					await makeDirPrivate(logDir, 'log dir');
				},
			}),
			'exit-file': new DirGuard(context, {
				path: runsDir,
				fault: 'exit-files',
				files: 'exit files',
				name: 'runs dir',
				async remake() {
					await mkdir(runsDir, {mode: 0o700});
					// Its name synced in the data dir: an exit file synced in a runs/ that a power cut forgets is lost with it.
					await syncDirectory(dirname(runsDir), context.durability);
					await makeDirPrivate(runsDir, 'runs dir', {noLink: true});
				},
			}),
		};
	}

	/** Taken when a run's start is asked for, and handed back to `fileFailed` with its failure. */
	epochs(): RunFileEpochs {
		return {log: this.#guards.log.epoch, 'exit-file': this.#guards['exit-file'].epoch};
	}

	/** The job starter could not make this file of a run whose start was asked for at `epochs`. */
	async fileFailed(fault: RunFileFault, epochs: RunFileEpochs): Promise<void> {
		await this.#guards[fault.file].fileFailed(fault.error, epochs[fault.file]);
	}
}
