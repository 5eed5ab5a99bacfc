// `npm test` after the build: vitest and eslint at the same time, so that lint costs
// CPU the tests leave idle (they mostly wait on processes) and little wall time.
// The arguments go to vitest (`npm test -- --reporter=json ...`, see .ci/run).
// vitest writes to the terminal as it goes; eslint's report is held and printed after
// vitest's, under a heading, so that neither interleaves with the other. The exit
// status is non-zero when either fails; vitest's own status when only it fails.
import {spawn} from 'node:child_process';
import {delimiter} from 'node:path';

// npm puts node_modules/.bin on PATH; run by hand (`node .ci/vitest-and-lint.mjs`), so does this.
const env = {...process.env, PATH: `${new URL('../node_modules/.bin', import.meta.url).pathname}${delimiter}${process.env.PATH ?? ''}`};

function run(command, args, stdio) {
	const child = spawn(command, args, {stdio, env});
	const output = [];
	// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- null when stdio is 'inherit' (vitest's output goes straight to the terminal)
	child.stdout?.on('data', chunk => output.push(chunk));
	// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
	child.stderr?.on('data', chunk => output.push(chunk));
	const ended = new Promise(resolve => {
		child.on('error', error => resolve({status: 1, output: [Buffer.from(`${command}: ${error.message}\n`)]}));
		child.on('close', (code, signal) => resolve({status: code ?? (signal ? 1 : 0), signal, output}));
	});
	return {child, ended};
}

// `npm run lint` is the one place that says what is linted and how. It runs niced, below the
// tests' processes: their waits have deadlines, lint has none.
const lint = run('nice', ['-n', '10', 'npm', 'run', '--silent', 'lint'], ['ignore', 'pipe', 'pipe']);
const tests = run('vitest', ['run', ...process.argv.slice(2)], 'inherit');

const testsEnded = await tests.ended;
const lintEnded = await lint.ended;
const lintText = Buffer.concat(lintEnded.output).toString().trimEnd();
process.stdout.write(`\n--- eslint: ${lintEnded.status === 0 ? 'no findings' : `failed (exit ${lintEnded.status})`}\n${lintText ? `${lintText}\n` : ''}`);
process.exitCode = testsEnded.status !== 0 ? testsEnded.status : lintEnded.status;
