#!/usr/bin/env node
import {parsePlainAddJob} from './cli/plain-add-job.js';

// The entry point: a plain `add-job` runs without loading commander (see
// plain-add-job.ts); every other command line goes to cli-program.ts.

const plainAddJob = parsePlainAddJob(process.argv.slice(2), process.env);
if (plainAddJob) {
	try {
		const {addJob} = await import('./cli/commands/jobs.js');
		await addJob(plainAddJob.dataDir, plainAddJob.script, plainAddJob.args, plainAddJob.options);
	} catch (error) {
		const {reportError} = await import('./cli/report-error.js');
		process.exitCode = reportError(error);
	}
} else {
	await import('./cli-program.js');
}
