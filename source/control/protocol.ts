import {join} from 'node:path';
import type {SchedulerMethod} from './scheduler-api.js';

// The control socket speaks newline-delimited JSON. A client sends requests
// `{v, id, method, params}` and gets `{id, result}` or `{id, error}` back;
// after a `subscribe` request it also receives `{events: […]}` batches, and
// `{heartbeat}` lines as often as it asked (`heartbeatMs`), so that it can tell
// a quiet scheduler from a frozen one. Each request carries its deadline
// (deadline.ts): one that starts after it is refused, never applied.
// The methods and their parameters are in scheduler-api.ts.

// Version 2: snapshot and subscribe take options, queuePage pages the queue.
// Version 3: finishedRuns.
// Version 4: requests carry their deadline; subscribers get heartbeats.
// Version 5: clean, and the snapshot's retention.
export const protocolVersion = 5;

/** A request line larger than this is refused and the connection closed. */
export const maxRequestBytes = 64 * 1024 * 1024;

export type Request = {
	v: number;
	id: number;
	method: SchedulerMethod | 'subscribe';
	params: unknown[];
	/** When the client gives up: epoch ms, and the same moment on the monotonic clock (deadline.ts). */
	deadline?: number;
	monotonicDeadline?: number;
	/** Only with `subscribe`: send a heartbeat this often. */
	heartbeatMs?: number;
};

export type Response =
	| {id: number; result: unknown}
	| {id: number | null; error: {message: string; user: boolean}}
	| {events: unknown[]}
	| {heartbeat: number};

export function controlSocketPath(dataDir: string): string {
	return join(dataDir, 'control.sock');
}
