import {constants} from 'node:os';
import {signalName} from '../job-process.js';
import {present} from '../../core/present.js';

// What the scheduler and its job starter process say to each other, over the
// starter's stdin (requests) and stdout (replies). Two starters speak it: the
// perl one (starter.pl) and the node one (main.ts); neither has a JSON parser
// it may count on (perl's JSON::PP is not in perl-base), so both directions
// are plain enough to read with a split.
//
// A request is its length in bytes, a newline, then that many bytes: fields
// each ended by a NUL (an argument or an environment value may hold any byte
// but NUL, newlines included):
//
//   ID \0 SCRIPT \0 CWD \0 LOG-FILE \0 EXIT-FILE \0 N \0 ARG×N \0 M \0 (NAME \0 VALUE \0)×M
//
// A reply is one line of words separated by spaces; only the error text,
// last, may hold spaces, and never a newline:
//
//   spawned ID PID START-TIME [NOTE]   (START-TIME: /proc/PID/stat field 22, or -;
//                                       NOTE: what stood in the way of its files, and what was done)
//   not-started ID [FILE ERROR]   (FILE: `log` or `exit-file`, the run's file that could not
//                                  be made, a fault of the scheduler's side; none: the job's own
//                                  trouble, its cwd gone or its wrapper not forked, said in its log)
//   exited ID EXIT-CODE SIGNAL   (the wrapper's own: a number, or -)

/** Start one job; `id` only pairs the replies with it. */
export type StartRequest = {
	id: number;
	script: string;
	args: string[];
	cwd: string;
	/** Added on top of the scheduler's own environment. */
	env: Record<string, string>;
	logFile: string;
	exitFile: string;
};

/** A run's files the starter makes before it forks the wrapper: the log (in the log dir), then the exit file (in runs/). */
export type RunFile = 'log' | 'exit-file';

/** The starter could not make one of a run's files: the scheduler's fault, not the job's. `error`: what went wrong, in words. */
export type RunFileFault = {file: RunFile; error: string};

function isRunFile(word: string): word is RunFile {
	return word === 'log' || word === 'exit-file';
}

export type StarterReply =
	/** `note`: something stood where the job's log or exit file goes; it was moved aside, never written through (starter.pl's move_aside). */
	| {type: 'spawned'; id: number; pid: number; pidStartTime: number | undefined; note?: string}
	/** Nothing runs: one of its files could not be made (`fault`), or, without one, the wrapper could not be spawned (the reason is in the log). */
	| {type: 'not-started'; id: number; fault?: RunFileFault}
	/** The wrapper ended: the job's status as the wrapper passed it on, or the signal that killed the wrapper itself. */
	| {type: 'exited'; id: number; exitCode: number | undefined; signal: string | undefined};

export function encodeStartRequest(request: StartRequest): Buffer {
	const env = Object.entries(request.env);
	const fields = [String(request.id), request.script, request.cwd, request.logFile, request.exitFile, String(request.args.length), ...request.args, String(env.length), ...env.flat()];
	for (const field of fields) {
		if (field.includes('\0')) throw new Error(`a job's script, arguments and environment cannot hold a NUL byte: ${JSON.stringify(field)}`);
	}

	const body = Buffer.from(fields.map(field => field + '\0').join(''), 'utf8');
	return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}

/** Returns the stream's `data` listener, which calls `onRequest` for every complete request. */
export function startRequestReader(onRequest: (request: StartRequest) => void): (chunk: Buffer) => void {
	let pending: Buffer = Buffer.alloc(0);
	return chunk => {
		pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
		let start = 0;
		for (;;) {
			const newline = pending.indexOf(10, start);
			if (newline === -1) break;
			const end = newline + 1 + Number(pending.subarray(start, newline).toString('latin1'));
			if (end > pending.length) break;
			onRequest(decodeStartRequest(pending.subarray(newline + 1, end)));
			start = end;
		}

		pending = pending.subarray(start);
	};
}

function decodeStartRequest(body: Buffer): StartRequest {
	const fields = body.toString('utf8').split('\0');
	let next = 0;
	const field = () => present(fields[next++], 'a field of a start request');
	const [id, script, cwd, logFile, exitFile] = [Number(field()), field(), field(), field(), field()];
	const args = Array.from({length: Number(field())}, field);
	const env: Record<string, string> = {};
	for (let count = Number(field()); count > 0; count--) env[field()] = field();
	return {id, script, args, cwd, env, logFile, exitFile};
}

export function encodeReply(reply: StarterReply): string {
	switch (reply.type) {
		case 'spawned': {
			return `spawned ${reply.id} ${reply.pid} ${reply.pidStartTime ?? '-'}${reply.note === undefined ? '' : ' ' + reply.note.replaceAll('\n', ' ')}\n`;
		}

		case 'not-started': {
			return `not-started ${reply.id}${reply.fault === undefined ? '' : ` ${reply.fault.file} ${reply.fault.error.replaceAll('\n', ' ')}`}\n`;
		}

		case 'exited': {
			const signal = reply.signal === undefined ? undefined : constants.signals[reply.signal as NodeJS.Signals];
			return `exited ${reply.id} ${reply.exitCode ?? '-'} ${signal ?? '-'}\n`;
		}
	}
}

export function decodeReply(line: string): StarterReply {
	const [type, id, ...rest] = line.split(' ');
	const number = (word: string | undefined) => (word === undefined || word === '-' ? undefined : Number(word));
	switch (type) {
		case 'spawned': {
			const spawned = {type, id: Number(id), pid: Number(rest[0]), pidStartTime: number(rest[1])};
			return rest.length > 2 ? {...spawned, note: rest.slice(2).join(' ')} : spawned;
		}

		case 'not-started': {
			const [file, ...error] = rest;
			if (file === undefined) return {type, id: Number(id)};
			if (!isRunFile(file)) throw new Error(`the job starter said something unknown: ${line}`);
			return {type, id: Number(id), fault: {file, error: error.join(' ')}};
		}

		case 'exited': {
			const signal = number(rest[1]);
			return {type, id: Number(id), exitCode: number(rest[0]), signal: signal === undefined ? undefined : signalName(signal)};
		}

		default: {
			throw new Error(`the job starter said something unknown: ${line}`);
		}
	}
}
