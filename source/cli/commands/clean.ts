import {checkCleanRequest, parseOutcomes, parseRetentionDuration, parseRunCount, type CleanRequest, type CleanResult} from '../../core/retention.js';
import {withScheduler} from '../connect.js';

export type CleanOptions = {olderThan?: string; keep?: string; outcome?: string; json?: boolean};

/** `jobdeck clean`: every argument is checked before the scheduler is asked, so bad input changes nothing. */
export async function clean(dataDir: string, options: CleanOptions): Promise<void> {
	const request: CleanRequest = checkCleanRequest({
		...(options.olderThan !== undefined && {olderThanMs: parseRetentionDuration(options.olderThan, '--older-than')}),
		...(options.keep !== undefined && {keep: parseRunCount(options.keep, '--keep')}),
		...(options.outcome !== undefined && {outcomes: parseOutcomes(options.outcome)}),
	});
	const result = await withScheduler(dataDir, async scheduler => scheduler.clean(request));
	process.stdout.write(options.json ? JSON.stringify(result) + '\n' : describeClean(result) + '\n');
}

export function describeClean(result: CleanResult): string {
	const outcomes = Object.entries(result.byOutcome).map(([outcome, count]) => `${count} ${outcome}`).join(', ');
	const jobs = result.jobIds === undefined ? '' : result.jobIds.first === result.jobIds.last ? ` of job ${result.jobIds.first}` : ` of jobs ${result.jobIds.first}-${result.jobIds.last}`;
	const removed = result.removedRuns === 0
		? 'removed no finished run'
		: `removed ${result.removedRuns} finished run${result.removedRuns === 1 ? '' : 's'}${jobs} (${outcomes}) and ${result.removedLogs} log file${result.removedLogs === 1 ? '' : 's'} (${formatBytes(result.removedLogBytes)})`;
	const protectedRuns = result.protectedRuns === 0 ? '' : `, ${result.protectedRuns} of them still needed (a queued or running job, or a job one runs --after)`;
	return `${removed}; ${result.keptRuns} finished run${result.keptRuns === 1 ? '' : 's'} kept${protectedRuns}`;
}

function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
	return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
