import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {execa, type ResultPromise} from 'execa';
import {lineReader} from '../../core/line-reader.js';
import {UserError} from '../../core/user-error.js';
import {wrapperName} from '../job-process.js';
import {decodeReply, encodeStartRequest, type RunFileFault, type StarterReply, type StartRequest} from './protocol.js';
import {present} from '../../core/present.js';

/** How a wrapper ended, or 'lost': the starter died, and with it the news of this job's end. */
export type WrapperExit = {exitCode: number | undefined; signal: string | undefined} | 'lost';

export type StartResult =
	| {type: 'spawned'; pid: number; pidStartTime: number | undefined; exited: Promise<WrapperExit>; note?: string}
	/** `fault`: one of its files could not be made (the scheduler's fault); none: the job's own trouble, said in its log. */
	| {type: 'not-started'; fault?: RunFileFault}
	/** The starter died before it answered: the job may or may not have started. */
	| {type: 'lost'};

type Pending = {resolveStart: (result: StartResult) => void; resolveExit?: (exit: WrapperExit) => void};

// Loaded from the TypeScript sources (the UI tests run the engine in-process through vitest), the starter is the built one: node runs JavaScript.
const mainScript = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../../dist/engine/job-starter/main.js' : 'main.js', import.meta.url));
// Beside this file, in the sources and in dist/ (the build copies it there).
const perlScript = fileURLToPath(new URL('starter.pl', import.meta.url));
/** Where each wrapper of the perl starter writes its name (starter.pl), beyond the argv and environment it has anyway. */
const perlNameRoom = ' '.repeat(1024);

export type StarterKind = 'perl' | 'node';

/**
 * The scheduler's environment, less perl's own variables (PERL5OPT,
 * PERL5LIB, PERL_UNICODE…), which would change how the perl starter itself
 * runs; `perlOwn` holds them, for the jobs.
 */
function perlEnvironment(): {starter: Record<string, string>; perlOwn: Record<string, string>} {
	const starter: Record<string, string> = {};
	const perlOwn: Record<string, string> = {};
	for (const [name, value] of Object.entries(process.env)) {
		if (value !== undefined) (name.startsWith('PERL') ? perlOwn : starter)[name] = value;
	}

	return {starter, perlOwn};
}

let available: StarterKind | undefined;

/**
 * The perl starter where perl can run it (it forks its wrappers instead of
 * spawning `sh`, which takes less of the machine a job), else the node one.
 * JOBDECK_JOB_STARTER=perl|node picks one (the tests run both).
 */
export function starterKind(): StarterKind {
	const forced = process.env['JOBDECK_JOB_STARTER'];
	if (forced === 'perl' || forced === 'node') return forced;
	if (forced) throw new UserError(`JOBDECK_JOB_STARTER must be perl or node, not ${JSON.stringify(forced)}`);
	available ??= existsSync(perlScript) && spawnSync('perl', ['-MPOSIX', '-MFcntl', '-e', '0'], {stdio: 'ignore', env: perlEnvironment().starter}).status === 0 ? 'perl' : 'node';
	return available;
}

/**
 * The scheduler's side of the job starter process (main.ts): sends it the
 * jobs to spawn and hands back what it answers. When the starter dies, every
 * job it was asked about is 'lost' and the next start runs a new starter.
 */
export class JobStarter {
	#process: ResultPromise | undefined;
	readonly #pending = new Map<number, Pending>();
	#nextId = 1;
	#outgoing: Buffer[] = [];
	readonly #onUnexpectedExit: (reason: string) => void;
	#closing = false;
	/** Perl's own variables of the scheduler's environment, which the perl starter runs without. */
	#perlOwnEnv: Record<string, string> | undefined;
	/** False under `start --no-sync`: the wrappers then sync no exit file either. */
	readonly #sync: boolean;

	constructor(onUnexpectedExit: (reason: string) => void, {sync = true} = {}) {
		this.#onUnexpectedExit = onUnexpectedExit;
		this.#sync = sync;
	}

	/** Starts the process ahead of the first job, which then need not wait for it to boot. */
	warmUp(): void {
		// Its end is handled where it starts (#running).
		void this.#running();
	}

	async start(request: Omit<StartRequest, 'id'>): Promise<StartResult> {
		const starter = this.#running();
		const id = this.#nextId++;
		const result = new Promise<StartResult>(resolveStart => {
			this.#pending.set(id, {resolveStart});
		});
		// The perl starter runs without perl's own variables: the jobs get them from here.
		const env = this.#perlOwnEnv ? {...this.#perlOwnEnv, ...request.env} : request.env;
		this.#outgoing.push(encodeStartRequest({id, ...request, env}));
		// One write for every job a dispatch pass starts.
		if (this.#outgoing.length === 1) {
			queueMicrotask(() => {
				const text = Buffer.concat(this.#outgoing);
				this.#outgoing = [];
				if (this.#process === starter) present(starter.stdin, 'the job starter\'s stdin').write(text);
			});
		}

		return result;
	}

	/** Lets the starter end (the jobs it started keep running). */
	async close(): Promise<void> {
		this.#closing = true;
		const starter = this.#process;
		if (!starter) return;
		present(starter.stdin, 'the job starter\'s stdin').end();
		await starter;
	}

	#running(): ResultPromise {
		if (this.#process) return this.#process;
		// Detached: in its own session, a Ctrl-C meant for the scheduler does not reach it.
		// A CPU profile of the scheduler (the benchmarks' --profile) comes with one of its starter.
		const profiling = process.execArgv.filter(arg => arg.startsWith('--cpu-prof'));
		const perl = starterKind() === 'perl' ? perlEnvironment() : undefined;
		this.#perlOwnEnv = perl && Object.keys(perl.perlOwn).length > 0 ? perl.perlOwn : undefined;
		const [command, args] = perl ? ['perl', [perlScript, wrapperName, perlNameRoom]] : [process.execPath, [...profiling, mainScript]];
		const noSync = this.#sync ? {} : {JOBDECK_STARTER_NO_SYNC: '1'};
		const starter = execa(command, args, {
			...(perl ? {env: {...perl.starter, ...noSync}, extendEnv: false} : {env: noSync}),
			stdin: 'pipe',
			stdout: 'pipe',
			stderr: 'pipe',
			detached: true,
			cleanup: false,
			reject: false,
			buffer: {stdout: false, stderr: true},
			encoding: 'utf8',
		});
		this.#process = starter;
		starter.stdout.on('data', lineReader(line => {
			this.#receive(decodeReply(line));
		}));
		// A write to a starter that just died; its exit is handled below.
		starter.stdin.on('error', () => undefined);
		void starter.then(result => {
			this.#process = undefined;
			const pending = [...this.#pending.values()];
			this.#pending.clear();
			for (const job of pending) {
				if (job.resolveExit) job.resolveExit('lost');
				else job.resolveStart({type: 'lost'});
			}

			if (this.#closing) return;
			const stderr = result.stderr.trim().split('\n').at(-1);
			const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
			this.#onUnexpectedExit(`the job starter process ${how}${stderr ? ` (${stderr})` : ''}`);
		});
		return starter;
	}

	#receive(reply: StarterReply): void {
		const job = this.#pending.get(reply.id);
		if (!job) return;
		switch (reply.type) {
			case 'spawned': {
				const exited = new Promise<WrapperExit>(resolveExit => {
					job.resolveExit = resolveExit;
				});
				job.resolveStart({type: 'spawned', pid: reply.pid, pidStartTime: reply.pidStartTime, exited, ...(reply.note !== undefined && {note: reply.note})});
				break;
			}

			case 'not-started': {
				this.#pending.delete(reply.id);
				job.resolveStart({type: 'not-started', ...(reply.fault !== undefined && {fault: reply.fault})});
				break;
			}

			case 'exited': {
				this.#pending.delete(reply.id);
				job.resolveExit?.({exitCode: reply.exitCode, signal: reply.signal});
				break;
			}
		}
	}
}
