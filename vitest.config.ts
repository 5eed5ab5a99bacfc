import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		// Real processes, sockets and terminals: generous time (a wait that expires says what it saw last).
		testTimeout: 180_000,
		hookTimeout: 120_000,
		// Two files at a time: most of a test is waiting for processes (node starting, jobs, ssh), so two share the
		// two cores well. Every test has its own temp dir, data dir, ports and tmux socket; none depends on speed.
		fileParallelism: true,
		maxWorkers: 2,
		minWorkers: 1,
		env: {FORCE_COLOR: '0'},
	},
});
