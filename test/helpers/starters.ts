import {starterKind} from '../../source/engine/job-starter/job-starter.js';

// The two job starters, which the tests run against alike: the perl one
// where perl with POSIX runs, and the node one it falls back to.

/** Whether the perl starter can run here; when not, its tests are skipped, and say so loudly. */
export const perlAvailable = (() => {
	delete process.env['JOBDECK_JOB_STARTER'];
	const available = starterKind() === 'perl';
	if (!available) console.warn(`\n${'!'.repeat(100)}\nSKIPPED: perl with POSIX is not installed here, so the perl job starter's tests do not run.\n${'!'.repeat(100)}\n`);
	return available;
})();

/** For describe.each: each starter, and whether its tests must be skipped here. */
export const starterKinds = [
	{kind: 'perl' as const, skip: !perlAvailable},
	{kind: 'node' as const, skip: false},
];
