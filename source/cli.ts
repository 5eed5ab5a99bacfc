#!/usr/bin/env node
import {addJob} from './cli/commands/jobs.js';
import {parsePlainAddJob} from './cli/plain-add-job.js';
import {stopQuietlyWhenReaderGoes} from './cli/reader-gone.js';
import {reportError} from './cli/report-error.js';

// The entry point. `npm run build` bundles it, with the modules a plain
// `add-job` needs, into one CommonJS file, dist/jobdeck.cjs (the `jobdeck`
// command): node's ES module loader, and a file read for each module, were
// a third of that command's start-up beyond node's own. A plain `add-job`
// runs without loading commander either (see plain-add-job.ts); every other
// command line goes to cli-program.ts, which stays an ES module of its own
// and is loaded only then.

async function main(): Promise<void> {
	stopQuietlyWhenReaderGoes();
	const plainAddJob = parsePlainAddJob(process.argv.slice(2), process.env);
	if (!plainAddJob) {
		await import('./cli-program.js');
		return;
	}

	try {
		await addJob(plainAddJob.dataDir, plainAddJob.script, plainAddJob.args, plainAddJob.options);
	} catch (error) {
		process.exitCode = reportError(error);
	}
}

void main();
