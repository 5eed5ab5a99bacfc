import {parseDuration, parseEnvAssignments, parseJobId} from '../../core/validation.js';
import {UserError} from '../../core/user-error.js';
import {withScheduler} from '../connect.js';

export async function addJob(dataDir: string, script: string, args: string[], envAssignments: string[]): Promise<void> {
	const env = parseEnvAssignments(envAssignments);
	const jobs = await withScheduler(dataDir, async scheduler => scheduler.addJobs([{script, args, env, cwd: process.cwd()}]));
	// Just the ids, one a line, so that scripts can chain on them.
	for (const job of jobs) console.log(job.id);
}

export async function removeJobs(dataDir: string, script: string | undefined, args: string[], ids: string[] | undefined): Promise<void> {
	if (ids && script !== undefined) throw new UserError('give either --id ID… or SCRIPT [ARGS…], not both');
	if (!ids && script === undefined) throw new UserError('give the SCRIPT [ARGS…] of the jobs to remove, or --id ID…');
	const selector = ids ? {ids: ids.map(parseJobId)} : {script: script!, args, cwd: process.cwd()};
	const removed = await withScheduler(dataDir, async scheduler => scheduler.removeJobs(selector));
	console.log(`removed ${removed.length} queued job${removed.length === 1 ? '' : 's'}: ${removed.join(' ')}`);
}

export async function cancelJobs(dataDir: string, ids: string[], grace: string): Promise<void> {
	const jobIds = ids.map(parseJobId);
	const graceMs = parseDuration(grace);
	await withScheduler(dataDir, async scheduler => scheduler.cancelJobs(jobIds, graceMs));
	console.log(`cancelled: ${jobIds.join(' ')}`);
}

export async function retryJobs(dataDir: string, ids: string[]): Promise<void> {
	const jobIds = ids.map(parseJobId);
	const jobs = await withScheduler(dataDir, async scheduler => scheduler.retryJobs(jobIds));
	for (const job of jobs) console.log(job.id);
}
