import {readFile} from 'node:fs/promises';
import {splitArguments} from '../../core/arguments.js';
import {checkExecTotal, envExecBytes} from '../../core/exec-limits.js';
import {
	checkDurationMs,
	checkPriority,
	checkRetries,
	parseDuration,
	parseEnvAssignments,
	parseJobId,
	parseJobIdList,
	parseTagList,
} from '../../core/validation.js';
import {UserError} from '../../core/user-error.js';
import {withScheduler} from '../connect.js';

export type AddJobOptions = {
	env: string[];
	/** One job per argument. */
	each?: boolean;
	/** One job per line of this file (- for stdin). */
	fromFile?: string;
	retries?: string;
	retryDelay?: string;
	timeout?: string;
	needs?: string;
	priority?: string;
	after?: string;
	json?: boolean;
};

export async function addJob(dataDir: string, script: string, args: string[], options: AddJobOptions): Promise<void> {
	const env = parseEnvAssignments(options.env);
	const settings = {
		retries: checkRetries(options.retries ?? '0'),
		...(options.retryDelay !== undefined && {retryDelayMs: checkDurationMs(parseDuration(options.retryDelay), '--retry-delay', true)}),
		...(options.timeout !== undefined && {timeoutMs: checkDurationMs(parseDuration(options.timeout), '--timeout', false)}),
		...(options.needs !== undefined && {needs: parseTagList(options.needs)}),
		priority: checkPriority(options.priority ?? '0'),
		// With --each and --from-file, every job of the batch waits for these.
		...(options.after !== undefined && {after: parseJobIdList(options.after)}),
	};
	const cwd = process.cwd();
	let argLists: string[][] = [args];
	if (options.each) {
		if (args.length === 0) throw new UserError('--each needs at least one argument after SCRIPT');
		argLists = args.map(arg => [arg]);
	} else if (options.fromFile !== undefined) {
		argLists = (await readJobLines(options.fromFile)).map(line => [...args, ...line]);
		if (argLists.length === 0) throw new UserError(`${options.fromFile === '-' ? 'standard input' : options.fromFile} has no job lines`);
	}

	// Each job must fit at exec with its env: refused here, before anything is sent (the scheduler checks again).
	const envBytes = envExecBytes(env);
	for (const jobArgs of argLists) checkExecTotal(script, jobArgs, envBytes);
	// One request, so the scheduler saves the whole batch in one write.
	const jobs = await withScheduler(dataDir, async scheduler => scheduler.addJobs(argLists.map(jobArgs => ({script, args: jobArgs, env, cwd, ...settings}))));
	// Just the ids, one a line (or JSON), so that scripts can chain on them.
	process.stdout.write(options.json ? JSON.stringify(jobs.map(job => ({id: job.id}))) + '\n' : jobs.map(job => job.id).join('\n') + '\n');
}

/** Each non-empty line is one job's arguments, split like a shell would split words, but nothing is expanded. */
async function readJobLines(file: string): Promise<string[][]> {
	let text: string;
	try {
		text = file === '-' ? await readStream(process.stdin) : await readFile(file, 'utf8');
	} catch (error) {
		throw new UserError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}

	const lines = text.split('\n');
	const argLists: string[][] = [];
	for (const [index, line] of lines.entries()) {
		if (line.trim() === '') continue;
		try {
			argLists.push(splitArguments(line));
		} catch (error) {
			throw new UserError(`${file} line ${index + 1}: ${(error as Error).message}`);
		}
	}

	return argLists;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
	return Buffer.concat(chunks).toString('utf8');
}

export async function removeJobs(dataDir: string, script: string | undefined, args: string[], ids: string[] | undefined): Promise<void> {
	if (ids && script !== undefined) throw new UserError('give either --id ID… or SCRIPT [ARGS…], not both');
	let selector;
	if (ids) selector = {ids: ids.map(parseJobId)};
	else if (script === undefined) throw new UserError('give the SCRIPT [ARGS…] of the jobs to remove, or --id ID…');
	else selector = {script, args, cwd: process.cwd()};
	const removed = await withScheduler(dataDir, async scheduler => scheduler.removeJobs(selector));
	console.log(`removed ${removed.length} queued job${removed.length === 1 ? '' : 's'}: ${removed.join(' ')}`);
}

export async function cancelJobs(dataDir: string, ids: string[], grace: string): Promise<void> {
	const jobIds = ids.map(parseJobId);
	const graceMs = parseDuration(grace);
	await withScheduler(dataDir, async scheduler => scheduler.cancelJobs(jobIds, graceMs));
	console.log(`cancelled: ${jobIds.join(' ')}`);
}

export async function setPriority(dataDir: string, priorityText: string, ids: string[]): Promise<void> {
	const priority = checkPriority(priorityText);
	const jobIds = ids.map(parseJobId);
	const jobs = await withScheduler(dataDir, async scheduler => scheduler.setJobPriority(jobIds, priority));
	console.log(`priority ${priority}: ${jobs.map(job => job.id).join(' ')}`);
}

export async function retryJobs(dataDir: string, ids: string[]): Promise<void> {
	const jobIds = ids.map(parseJobId);
	const jobs = await withScheduler(dataDir, async scheduler => scheduler.retryJobs(jobIds));
	for (const job of jobs) console.log(job.id);
}
