import {Command, Option} from 'commander';
import type {AddJobOptions} from './cli/commands/jobs.js';

// The command line (cli.ts loads it for every command but a plain add-job).
// Only commander loads up front: each command imports what it needs when it
// runs, so that a client command never pays for the engine or the UI.

const program = new Command('jobdeck')
	.description('A keyboard-driven job scheduler for a fleet of machines')
	.version('0.1.0')
	.enablePositionalOptions()
	// A usage error is one line like every other error; the subcommands inherit this.
	.configureOutput({
		outputError(message, write) {
			const line = (message.replace(/^error: /, '').split('\n')[0] ?? '').trim();
			write(`jobdeck: ${line} (see jobdeck help)\n`);
		},
	});

/** `-e NAME=VALUE`, repeatable. */
const collect = (value: string, previous: string[]) => [...previous, value];

function withDataDir(command: Command): Command {
	return command
		.addOption(new Option('--data-dir <dir>', 'the scheduler\'s data dir').env('JOBDECK_DATA_DIR').default('.data'))
		// The Python original spelled it this way; its users keep their scripts.
		.addOption(new Option('--server_data_dir <dir>').hideHelp());
}

type DataDirOptions = {dataDir: string; server_data_dir?: string};

const dataDirOf = (options: DataDirOptions) => options.server_data_dir ?? options.dataDir;

withDataDir(program.command('start'))
	.description('start the scheduler: the full-screen UI on a terminal (attached to the running one if there is one), or --headless')
	.argument('[data_dir]', 'the data dir, as the original cli.py took it')
	.argument('[log_dir]', 'the log dir, as the original cli.py took it')
	.addOption(new Option('--log-dir <dir>', 'where job output goes').default('logs'))
	.addOption(new Option('--log_dir <dir>').hideHelp())
	.option('--headless', 'run without a UI, printing one line per event (for nohup, systemd, CI)')
	.option('--json', 'with --headless: print events as JSON lines')
	.option('--offline-after <runs>', 'take a worker offline after this many runs in a row end with the unreachable exit code (0: never)', '3')
	.option('--unreachable-exit-code <code>', 'the exit code that means the job could not reach its worker (ssh\'s is 255)', '255')
	.option('--recheck-offline <duration>', 'first re-check of an offline worker after this long; the wait doubles up to 10m', '30s')
	.option('--no-sync', 'for throwaway data dirs only: never fsync the state, so a power cut (not a crash) may lose acknowledged changes')
	// Given by a scheduler that goes on in the background: its stdout is this file, which it rotates.
	.addOption(new Option('--rotate-output <file>').hideHelp())
	.option('--keep-finished <n>', 'retention: keep at most the newest N finished runs (records and logs); saved, so later starts keep it; "off" lifts it')
	.option('--keep-for <duration>', 'retention: remove finished runs that ended longer ago than this (2h, 30d); saved like --keep-finished; "off" lifts it')
	.action(async (positionalDataDir: string | undefined, positionalLogDir: string | undefined, options: DataDirOptions & StartFlags) => {
		const {start} = await import('./cli/commands/start.js');
		await start({
			dataDir: positionalDataDir ?? dataDirOf(options),
			logDir: positionalLogDir ?? options.log_dir ?? options.logDir,
			headless: options.headless ?? false,
			json: options.json ?? false,
			offlineAfter: options.offlineAfter,
			unreachableExitCode: options.unreachableExitCode,
			recheckOffline: options.recheckOffline,
			sync: options.sync,
			keepFinished: options.keepFinished,
			keepFor: options.keepFor,
			rotateOutput: options.rotateOutput,
		});
	});

/** The flags of `start` as commander parses them (cli/commands/start.ts has the checked StartOptions). */
type StartFlags = {
	logDir: string;
	log_dir?: string;
	headless?: boolean;
	json?: boolean;
	offlineAfter: string;
	unreachableExitCode: string;
	recheckOffline: string;
	sync: boolean;
	keepFinished?: string;
	keepFor?: string;
	rotateOutput?: string;
};

withDataDir(program.command('ui'))
	.description('the full-screen UI on the scheduler already running on the data dir; quitting leaves it running')
	.action(async (options: DataDirOptions) => {
		const {attachUi} = await import('./cli/commands/ui.js');
		await attachUi(dataDirOf(options));
	});

withDataDir(program.command('events'))
	.description('print the scheduler\'s events as they happen (jobs queued, started, finished; workers added, removed, offline…) until interrupted')
	.option('--json', 'one JSON object per line')
	.action(async (options: DataDirOptions & {json?: boolean}) => {
		const {events} = await import('./cli/commands/events.js');
		await events(dataDirOf(options), options.json ?? false);
	});

for (const name of ['add-worker', 'add_slave']) {
	withDataDir(program.command(name, {hidden: name === 'add_slave'}))
		.description('add workers (each is checked with a non-interactive ssh login)')
		.argument('<names...>', 'worker names: host, user@host or user@host:port')
		.option('--skip-ssh-check', 'add them without the ssh login check')
		.addOption(new Option('--skip_ssh_auth_check').hideHelp())
		.option('-e, --env <NAME=VALUE>', 'env for every job on these workers (repeatable)', collect, [])
		.option('--slots <n>', 'jobs a worker runs at once', '1')
		.option('--tag <tag>', 'a tag these workers have, such as gpu (repeatable); jobs added with --needs go only to workers with those tags', collect, [])
		.action(async (names: string[], options: DataDirOptions & {skipSshCheck?: boolean; skip_ssh_auth_check?: boolean; env: string[]; slots: string; tag: string[]}) => {
			const {addWorkers} = await import('./cli/commands/workers.js');
			await addWorkers(dataDirOf(options), names, {
				skipSshCheck: Boolean(options.skipSshCheck ?? options.skip_ssh_auth_check),
				env: options.env,
				slots: options.slots,
				tags: options.tag,
			});
		});
}

for (const name of ['remove-worker', 'remove_slave']) {
	withDataDir(program.command(name, {hidden: name === 'remove_slave'}))
		.description('remove workers; a busy one needs --wait or --kill')
		.argument('<names...>')
		.addOption(new Option('--wait', 'remove a busy worker when its jobs end').conflicts('kill'))
		.addOption(new Option('--kill', 'cancel a busy worker\'s jobs and remove it'))
		.action(async (names: string[], options: DataDirOptions & {wait?: boolean; kill?: boolean}) => {
			const {removeWorkers} = await import('./cli/commands/workers.js');
			await removeWorkers(dataDirOf(options), names, options.kill ? 'kill' : (options.wait ? 'wait' : 'now'));
		});
}

withDataDir(program.command('tag'))
	.description('change workers\' tags: jobdeck tag NAME… +TAG -TAG (jobdeck\'s own flags go first)')
	.argument('<names-and-tags...>', 'worker names, then +TAG to add a tag and -TAG to remove one')
	// `-gpu` removes a tag: it is not one of our options.
	.allowUnknownOption()
	.action(async (items: string[], options: DataDirOptions) => {
		const {tagWorkers} = await import('./cli/commands/workers.js');
		await tagWorkers(dataDirOf(options), items);
	});

for (const [name, drained] of [['disable', true], ['enable', false]] as const) {
	withDataDir(program.command(name))
		.description(drained ? 'drain workers: they finish their jobs and take no new one' : 'let drained workers take jobs again')
		.argument('<names...>')
		.action(async (names: string[], options: DataDirOptions) => {
			const {setDrained} = await import('./cli/commands/workers.js');
			await setDrained(dataDirOf(options), names, drained);
		});
}

for (const name of ['add-job', 'add_job']) {
	withDataDir(program.command(name, {hidden: name === 'add_job'}))
		.description('queue a job: SCRIPT runs with ARGS (everything after SCRIPT is the script\'s) in this directory')
		.argument('<script>', 'an executable, resolved against this directory')
		.argument('[args...]', 'passed to the script untouched')
		.option('-e, --env <NAME=VALUE>', 'env for this job (repeatable)', collect, [])
		.addOption(new Option('--each', 'one job per argument: SCRIPT ARG1, SCRIPT ARG2, …').conflicts('fromFile'))
		.option('--from-file <list>', 'one job per line of LIST (- for stdin): SCRIPT ARGS followed by the line\'s words (split without a shell)')
		.option('--retries <n>', 'run a failed job again up to N times, each attempt with a new JOB_ID', '0')
		.option('--retry-delay <duration>', 'wait this long before each retry (90s, 20m, 2h)')
		.option('--timeout <duration>', 'cancel a run that takes longer (90s, 20m, 2h) and record it as timed out')
		.option('--needs <tags>', 'run only on a worker that has all these tags (gpu,mem256)')
		.option('--priority <n>', 'higher runs first; first in, first out among equals', '0')
		.option('--after <ids>', 'run only once these jobs (3,4) have succeeded; if one fails for good, this one is recorded as dependency-failed')
		.option('--json', 'print the new jobs as a JSON list of {id} objects instead of one id a line')
		// Everything after SCRIPT belongs to the script, even what looks like our own flags.
		.passThroughOptions()
		.action(async (script: string, args: string[], options: DataDirOptions & AddJobOptions) => {
			const {addJob} = await import('./cli/commands/jobs.js');
			await addJob(dataDirOf(options), script, args, options);
		});
}

for (const name of ['remove-job', 'remove_job']) {
	withDataDir(program.command(name, {hidden: name === 'remove_job'}))
		.description('remove queued jobs: every one that runs SCRIPT ARGS, or --id ID…')
		.argument('[script]')
		.argument('[args...]')
		.option('--id <ids...>', 'remove these job ids')
		.passThroughOptions()
		.action(async (script: string | undefined, args: string[], options: DataDirOptions & {id?: string[]}) => {
			const {removeJobs} = await import('./cli/commands/jobs.js');
			await removeJobs(dataDirOf(options), script, args, options.id);
		});
}

withDataDir(program.command('cancel'))
	.description('cancel jobs: a running one gets SIGTERM (its whole process group), then SIGKILL after the grace; a queued one is removed')
	.argument('<ids...>')
	.option('--grace <duration>', 'how long a job has to exit after SIGTERM', '10s')
	.action(async (ids: string[], options: DataDirOptions & {grace: string}) => {
		const {cancelJobs} = await import('./cli/commands/jobs.js');
		await cancelJobs(dataDirOf(options), ids, options.grace);
	});

withDataDir(program.command('retry'))
	.description('queue finished jobs again')
	.argument('<ids...>')
	.action(async (ids: string[], options: DataDirOptions) => {
		const {retryJobs} = await import('./cli/commands/jobs.js');
		await retryJobs(dataDirOf(options), ids);
	});

withDataDir(program.command('clean'))
	.description('remove finished runs\' records and log files: those matching every filter given, except what a queued or running job still needs')
	.option('--older-than <duration>', 'only runs that ended longer ago than this (90s, 20m, 2h, 30d)')
	.option('--keep <n>', 'keep the newest N finished runs (of those --outcome lets through)')
	.option('--outcome <outcomes>', 'only runs that ended so: succeeded, failed, cancelled, timed-out, lost, dependency-failed (several with commas)')
	.option('--json', 'print what was removed as one JSON object')
	.action(async (options: DataDirOptions & {olderThan?: string; keep?: string; outcome?: string; json?: boolean}) => {
		const {clean} = await import('./cli/commands/clean.js');
		await clean(dataDirOf(options), options);
	});

withDataDir(program.command('priority'))
	.description('set the priority of queued jobs: jobdeck priority N ID… (higher runs first)')
	.argument('<priority>', 'a whole number, negative too')
	.argument('<ids...>')
	// A negative priority is not one of our options.
	.allowUnknownOption()
	.action(async (priority: string, ids: string[], options: DataDirOptions) => {
		const {setPriority} = await import('./cli/commands/jobs.js');
		await setPriority(dataDirOf(options), priority, ids);
	});

withDataDir(program.command('wait'))
	.description('wait until these jobs (or all queued and running ones) are done; exit 1 if any did not succeed')
	.argument('[ids...]')
	.action(async (ids: string[], options: DataDirOptions) => {
		const {wait} = await import('./cli/commands/wait.js');
		process.exitCode = await wait(dataDirOf(options), ids);
	});

withDataDir(program.command('status'))
	.description('show workers, queue, running and recent jobs (works with the scheduler stopped, too)')
	.option('--json', 'print the status as JSON (a stable interface for scripts)')
	.option('--finished <count>', 'how many of the newest finished runs to show, or "all"', '20')
	.action(async (options: DataDirOptions & {json?: boolean; finished: string}) => {
		const {status} = await import('./cli/commands/status.js');
		await status(dataDirOf(options), options.json ?? false, options.finished);
	});

withDataDir(program.command('logs'))
	.description('print a job\'s output (its latest run)')
	.argument('<id>')
	.option('-f, --follow', 'keep printing new output until the job ends')
	.action(async (id: string, options: DataDirOptions & {follow?: boolean}) => {
		const {logs} = await import('./cli/commands/logs.js');
		await logs(dataDirOf(options), id, options.follow ?? false);
	});

for (const name of ['load-status', 'load_status']) {
	withDataDir(program.command(name, {hidden: name === 'load_status'}))
		.description('replace workers and queue with those of a saved status (ours, or the original cli.py\'s)')
		.argument('<file>')
		.action(async (file: string, options: DataDirOptions) => {
			const {loadStatus} = await import('./cli/commands/load-status.js');
			await loadStatus(dataDirOf(options), file);
		});
}

for (const [name, description] of [
	['stop', 'stop the scheduler; running jobs keep running and the next start adopts them'],
	['pause', 'stop handing out jobs; running jobs go on'],
	['resume', 'hand out jobs again'],
] as const) {
	withDataDir(program.command(name))
		.description(description)
		.action(async (options: DataDirOptions) => {
			const {control} = await import('./cli/commands/control.js');
			await control(dataDirOf(options), name);
		});
}

program.command('demo')
	.description('try jobdeck with no cluster: the UI on a throwaway data dir, local workers and a few dozen example jobs')
	.option('--workers <n>', 'local workers', '4')
	.option('--jobs <n>', 'example jobs', '36')
	.action(async (options: {workers: string; jobs: string}) => {
		const {demo} = await import('./cli/commands/demo.js');
		await demo({workers: checkCount(options.workers, '--workers'), jobs: checkCount(options.jobs, '--jobs')});
	});

function checkCount(text: string, flag: string): number {
	if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 100_000) program.error(`jobdeck: ${flag} must be a whole number from 1 to 100000`);
	return Number(text);
}

try {
	await program.parseAsync();
} catch (error) {
	const {reportError} = await import('./cli/report-error.js');
	process.exitCode = reportError(error);
}
