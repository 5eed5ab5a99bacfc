import {join} from 'node:path';
import type {Scheduler} from '../core/scheduler.js';

// The control socket speaks newline-delimited JSON. A client sends requests
// `{v, id, method, params}` and gets `{id, result}` or `{id, error}` back;
// after a `subscribe` request it also receives `{events: […]}` batches.

// Version 2: snapshot and subscribe take options, queuePage pages the queue.
export const protocolVersion = 2;

/** A request line larger than this is refused and the connection closed. */
export const maxRequestBytes = 64 * 1024 * 1024;

export type SchedulerMethod = Exclude<keyof Scheduler, 'subscribe'>;

export const schedulerMethods: readonly SchedulerMethod[] = [
	'snapshot',
	'queuePage',
	'addWorkers',
	'removeWorkers',
	'setWorkersDrained',
	'tagWorkers',
	'addJobs',
	'removeJobs',
	'cancelJobs',
	'retryJobs',
	'clean',
	'setJobPriority',
	'setPaused',
	'loadStatus',
	'stop',
];

export type Request = {v: number; id: number; method: SchedulerMethod | 'subscribe'; params: unknown[]};

export type Response =
	| {id: number; result: unknown}
	| {id: number | null; error: {message: string; user: boolean}}
	| {events: unknown[]};

export function controlSocketPath(dataDir: string): string {
	return join(dataDir, 'control.sock');
}
