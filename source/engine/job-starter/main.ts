import {spawn} from 'node:child_process';
import {accessSync, closeSync, constants, unlinkSync, writeSync} from 'node:fs';
import {delimiter, join} from 'node:path';
import {readProcessStat, schedulerUmask, wrapperName, wrapperScript} from '../job-process.js';
import {errnoReason} from '../../core/error-message.js';
import {createExitFile, openNewLog, type NewLog} from './job-files.js';
import {encodeReply, startRequestReader, type StarterReply, type StartRequest} from './protocol.js';

// The node job starter: a small helper process the scheduler keeps running,
// which spawns the job wrappers for it. A spawn from node is a fork of the
// whole process and a wait for the child's exec; done here, that work runs
// beside the scheduler's event loop (on another core) rather than on it.
// Where perl is installed, starter.pl does the same work for less (see
// there); this one is the fallback, and speaks the same protocol.
//
// Its wrapper is `sh` running job-process.ts's wrapperScript, which puts the
// job in a session of its own with util-linux's (or busybox's) setsid. It loads
// nothing but node's own modules, job-process.ts and the protocol, and uses
// child_process.spawn directly: execa's per-spawn option handling and
// promise plumbing cost more than the fork itself in the dispatch profile,
// and nothing here needs its output handling (the job's output goes straight
// to its log file).
//
// It ends when its stdin does (the scheduler stopped or died). The jobs do
// not end with it: each runs detached, in its own process group, and its
// wrapper writes the exit file that tells the scheduler how it ended.

let outgoing: StarterReply[] = [];

/** `start --no-sync`: the wrappers sync nothing either (the jobs, which get this process's environment, do not see the variable). */
const sync = process.env['JOBDECK_STARTER_NO_SYNC'] === undefined;
delete process.env['JOBDECK_STARTER_NO_SYNC'];

/** The programs the `sh` wrapper runs besides the job, found once here: the job's own PATH may lack them. '' where there is none (and no `sync` under --no-sync). */
const tools = ['setsid', 'sync', 'date', 'mv'].map(name => {
	if (name === 'sync' && !sync) return '';
	for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
		try {
			accessSync(join(dir, name), constants.X_OK);
			return join(dir, name);
		} catch {
			// Not in this directory (or not executable): the next one may have it.
		}
	}

	return '';
});

function send(reply: StarterReply): void {
	outgoing.push(reply);
	if (outgoing.length > 1) return;
	// One write for every reply of one burst.
	queueMicrotask(() => {
		const text = outgoing.map(message => encodeReply(message)).join('');
		outgoing = [];
		process.stdout.write(text);
	});
}

function start(request: StartRequest): void {
	const notes: string[] = [];
	let log: NewLog;
	try {
		log = openNewLog(request.logFile, notes);
	} catch (error) {
		send({type: 'not-started', id: request.id, fault: {file: 'log', error: `could not open the log ${request.logFile}: ${errnoReason(error)}`}});
		return;
	}

	const logFd = log.fd;
	try {
		createExitFile(request.exitFile, notes);
	} catch (error) {
		closeSync(logFd);
		// Nothing runs, so nothing is said in its log: made new for this run a moment ago, it is empty and ours.
		if (log.made) removeQuietly(request.logFile);
		send({type: 'not-started', id: request.id, fault: {file: 'exit-file', error: `could not create the exit file ${request.exitFile}: ${errnoReason(error)}`}});
		return;
	}

	try {
		// The raw log file descriptor goes straight to the child: a pipe would die with us.
		const child = spawn('/bin/sh', ['-c', wrapperScript, wrapperName, request.exitFile, schedulerUmask, ...tools, request.script, ...request.args], {
			cwd: request.cwd,
			env: {...process.env, ...request.env},
			detached: true,
			stdio: ['ignore', logFd, logFd],
		});
		// A failed spawn is also reported as an 'error' event, which must not end this process.
		child.on('error', () => undefined);
		const {pid} = child;
		if (pid === undefined) {
			writeSync(logFd, `jobdeck: could not start ${request.script} in ${request.cwd}\n`);
			send({type: 'not-started', id: request.id});
			return;
		}

		child.on('exit', (exitCode, signal) => {
			send({type: 'exited', id: request.id, exitCode: exitCode ?? undefined, signal: signal ?? undefined});
		});
		send({type: 'spawned', id: request.id, pid, pidStartTime: readProcessStat(pid)?.startTime, ...(notes.length > 0 && {note: notes.join('; ')})});
	} finally {
		closeSync(logFd);
	}
}

function removeQuietly(path: string): void {
	try {
		unlinkSync(path);
	} catch {
		// Gone already (its dir removed): nothing is left to take back.
	}
}

/** Requests not started yet; a burst (a thousand free slots at once) is worked through in slices. */
const queue: StartRequest[] = [];
/** Between two slices, the ends of the jobs started so far are reported and their slots can take the next jobs. */
const sliceSize = 16;
let working = false;

function work(): void {
	for (const request of queue.splice(0, sliceSize)) start(request);
	working = queue.length > 0;
	if (working) setImmediate(work);
}

const readRequests = startRequestReader(request => {
	queue.push(request);
});
process.stdin.on('data', (chunk: Buffer) => {
	readRequests(chunk);
	if (!working) work();
});
// The scheduler is gone: nobody is left to tell.
process.stdout.on('error', () => {
	process.exit(0);
});
process.stdin.on('end', () => {
	process.exit(0);
});
