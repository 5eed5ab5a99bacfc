import {checkExecTotal, envExecBytes, longestExecString} from './exec-limits.js';
import type {EnvVars} from './model.js';
import {UserError} from './user-error.js';

// Checks shared by the command line, the UI's forms and the engine, so that
// every door into the scheduler refuses the same input with the same words.

/** Names jobdeck sets for every run; a job or worker may not override them. */
export const reservedEnvNames = ['JOB_ID', 'SLAVE_IP', 'WORKER'] as const;

const controlCharacter = /[\u0000-\u001F\u007F-\u009F]/;
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function describeString(value: string): string {
	return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

export function checkWorkerName(name: string): string {
	if (name.length === 0) throw new UserError('worker name is empty');
	if (controlCharacter.test(name)) throw new UserError(`worker name ${describeString(name)} contains a control character`);
	if (name.startsWith('-')) throw new UserError(`worker name ${describeString(name)} starts with "-" and could be read as an option`);
	if (name.length > 255) throw new UserError(`worker name ${describeString(name)} is longer than 255 characters`);
	return name;
}

export function checkSlots(value: unknown): number {
	return checkWholeNumber(value, 'slots', 1, 10_000);
}

export function checkRetries(value: unknown): number {
	return checkWholeNumber(value, 'retries', 0, 1000);
}

/** A number typed on the command line or in a form (a string), or sent over the socket (a number). */
function checkWholeNumber(value: unknown, what: string, min: number, max: number): number {
	const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
	if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
		throw new UserError(`${what} must be a whole number from ${min} to ${max}, not ${describeString(String(value))}`);
	}

	return number;
}

/** Parses `NAME=VALUE` (VALUE may itself contain `=`). */
export function parseEnvAssignment(assignment: string): [string, string] {
	const equals = assignment.indexOf('=');
	if (equals === -1) throw new UserError(`env ${describeString(assignment)} has no "=": write NAME=VALUE`);
	const name = assignment.slice(0, equals);
	const value = assignment.slice(equals + 1);
	checkEnvEntry(name, value);
	return [name, value];
}

export function parseEnvAssignments(assignments: readonly string[]): EnvVars {
	const env: EnvVars = {};
	for (const assignment of assignments) {
		const [name, value] = parseEnvAssignment(assignment);
		env[name] = value;
	}

	checkExecTotal('', [], envExecBytes(env));
	return env;
}

export function checkEnv(env: unknown): EnvVars {
	if (env === undefined || env === null) return {};
	if (typeof env !== 'object' || Array.isArray(env)) throw new UserError('env must be an object of NAME: VALUE strings');
	const checked: EnvVars = {};
	for (const [name, value] of Object.entries(env)) {
		if (typeof value !== 'string') throw new UserError(`env ${name} must be a string`);
		checkEnvEntry(name, value);
		checked[name] = value;
	}

	checkExecTotal('', [], envExecBytes(checked));
	return checked;
}

function checkEnvEntry(name: string, value: string): void {
	if (name.length === 0) throw new UserError('env name is empty: write NAME=VALUE');
	if (!envName.test(name)) throw new UserError(`env name ${describeString(name)} is not a valid variable name (letters, digits, _)`);
	if ((reservedEnvNames as readonly string[]).includes(name)) throw new UserError(`env name ${name} is reserved: jobdeck sets it for every run`);
	if (value.includes('\0')) throw new UserError(`env ${name} contains a NUL byte`);
	const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value);
	if (bytes >= longestExecString) throw new UserError(`env ${name} is longer than 128 KiB, the kernel's limit for one variable (${bytes} bytes as NAME=VALUE)`);
}

export function checkArgs(args: unknown): string[] {
	if (args === undefined) return [];
	if (!Array.isArray(args) || args.some(arg => typeof arg !== 'string')) throw new UserError('arguments must be a list of strings');
	// The kernel refuses NUL inside an argument and limits one argument to 128 KiB (exec-limits.ts).
	for (const [index, arg] of (args as string[]).entries()) {
		if (arg.includes('\0')) throw new UserError('an argument contains a NUL byte');
		const bytes = Buffer.byteLength(arg);
		if (bytes >= longestExecString) throw new UserError(`an argument is longer than 128 KiB, the kernel's limit for one argument (argument ${index + 1}: ${bytes} bytes)`);
	}

	const total = (args as string[]).reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
	if (total > 1024 * 1024) throw new UserError(`the arguments add up to ${total} bytes, more than the 1 MiB a job may have`);
	checkExecTotal('', args as string[], 0);
	return args as string[];
}

export function parseJobId(text: string): number {
	if (!/^\d+$/.test(text.trim())) throw new UserError(`job id ${describeString(text)} is not a number`);
	return Number(text);
}

/** Parses `250ms`, `10s`, `20m`, `2h` or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
	const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
	if (!match) throw new UserError(`duration ${describeString(text)} is not like 90s, 20m or 2h`);
	const unitMs = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
	return Math.round(Number(match[1]) * unitMs);
}

const longestDurationMs = 366 * 24 * 3_600_000;

/** A duration in milliseconds, as it arrives over the socket; `what` names it in the message. */
export function checkDurationMs(value: unknown, what: string, allowZero: boolean): number {
	if (typeof value !== 'number' || !Number.isFinite(value) || value < (allowZero ? 0 : 1) || value > longestDurationMs) {
		throw new UserError(`${what} must be a duration ${allowZero ? 'of 0 or more' : 'longer than 0'}, at most a year`);
	}

	return Math.round(value);
}

const longestTag = 64;

/** A worker tag or a job's need: a plain word, so that `tag NAME +gpu -mem256` and `--needs gpu,mem256` read it back unchanged. */
export function checkTag(tag: unknown): string {
	if (typeof tag !== 'string') throw new UserError('a tag must be a string');
	if (tag.length === 0) throw new UserError('a tag is empty');
	if (controlCharacter.test(tag)) throw new UserError(`tag ${describeString(tag)} contains a control character`);
	if (/[\s,]/.test(tag)) throw new UserError(`tag ${describeString(tag)} contains a space or a comma`);
	if (tag.startsWith('+') || tag.startsWith('-')) throw new UserError(`tag ${describeString(tag)} starts with "${tag.charAt(0)}"`);
	if (tag.length > longestTag) throw new UserError(`tag ${describeString(tag)} is longer than ${longestTag} characters`);
	return tag;
}

/** Tags as they are kept: checked, sorted, each once, so that equal sets have equal keys. */
export function checkTags(tags: unknown): string[] {
	if (tags === undefined || tags === null) return [];
	if (!Array.isArray(tags)) throw new UserError('tags must be a list of strings');
	return [...new Set(tags.map(tag => checkTag(tag)))].sort();
}

/** `--needs gpu,mem256`: a comma-separated list of tags. */
export function parseTagList(text: string): string[] {
	return checkTags(text.split(','));
}

const highestPriority = 1_000_000;

/** A priority typed (a string) or sent over the socket (a number): a whole number, negative too. */
export function checkPriority(value: unknown): number {
	const number = typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) ? Number(value) : value;
	if (typeof number !== 'number' || !Number.isInteger(number) || Math.abs(number) > highestPriority) {
		throw new UserError(`priority must be a whole number from -${highestPriority} to ${highestPriority}, not ${describeString(String(value))}`);
	}

	return number;
}

/** `--after 3,4`: a comma-separated list of job ids. */
export function parseJobIdList(text: string): number[] {
	return [...new Set(text.split(',').map(id => parseJobId(id)))];
}

/** Job ids as they arrive over the socket. */
export function checkJobIds(ids: unknown, what: string): number[] {
	if (ids === undefined || ids === null) return [];
	if (!Array.isArray(ids) || !ids.every(id => Number.isSafeInteger(id) && (id as number) >= 0)) throw new UserError(`${what} must be a list of job ids`);
	return [...new Set(ids as number[])];
}
