import type {AddJobOptions} from './commands/jobs.js';
import {present} from '../core/present.js';

// `add-job` is the command that scripts run in loops, and loading commander is
// a fifth of its start-up. Its arguments are simple enough to read here when
// they are plain: flags the command knows, each given once, then SCRIPT and
// the script's own arguments. Anything else (help, an unknown or repeated
// flag, a missing value, conflicting flags…) returns undefined, and the full
// command line (cli-program.ts) reads it, and words its errors, as always.

export type PlainAddJob = {dataDir: string; script: string; args: string[]; options: AddJobOptions};

/** add-job's flags that take a value, by every spelling; `-e`/`--env` repeat. */
const valueFlags: Record<string, 'dataDir' | 'server_data_dir' | 'env' | 'fromFile' | 'retries' | 'retryDelay' | 'timeout'> = {
	'--data-dir': 'dataDir',
	'--server_data_dir': 'server_data_dir',
	'-e': 'env',
	'--env': 'env',
	'--from-file': 'fromFile',
	'--retries': 'retries',
	'--retry-delay': 'retryDelay',
	'--timeout': 'timeout',
};

export function parsePlainAddJob(argv: readonly string[], env: NodeJS.ProcessEnv): PlainAddJob | undefined {
	if (argv[0] !== 'add-job' && argv[0] !== 'add_job') return undefined;
	const values: Partial<Record<(typeof valueFlags)[string], string>> = {};
	const envAssignments: string[] = [];
	let each = false;
	let index = 1;
	for (; index < argv.length; index++) {
		const arg = present(argv[index], 'an argument');
		if (arg === '--each') {
			if (each) return undefined;
			each = true;
			continue;
		}

		if (!arg.startsWith('-')) break;
		const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
		const flag = equals === -1 ? arg : arg.slice(0, equals);
		const key = Object.hasOwn(valueFlags, flag) ? valueFlags[flag] : undefined;
		if (key === undefined) return undefined;
		let value: string | undefined;
		if (equals === -1) {
			value = argv[++index];
			if (value === undefined) return undefined;
		} else {
			value = arg.slice(equals + 1);
		}

		if (key === 'env') {
			envAssignments.push(value);
		} else {
			if (values[key] !== undefined) return undefined;
			values[key] = value;
		}
	}

	const script = argv[index];
	if (script === undefined || script === '' || (each && values.fromFile !== undefined)) return undefined;
	const envDataDir = env['JOBDECK_DATA_DIR'];
	return {
		dataDir: values.server_data_dir ?? values.dataDir ?? envDataDir ?? '.data',
		script,
		args: argv.slice(index + 1),
		options: {
			env: envAssignments,
			retries: values.retries ?? '0',
			...(each && {each}),
			...(values.fromFile !== undefined && {fromFile: values.fromFile}),
			...(values.retryDelay !== undefined && {retryDelay: values.retryDelay}),
			...(values.timeout !== undefined && {timeout: values.timeout}),
		},
	};
}
