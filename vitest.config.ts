import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		// Real processes, sockets and terminals: generous time, and files run one at a time on these 2-core machines.
		testTimeout: 180_000,
		hookTimeout: 120_000,
		fileParallelism: false,
		env: {FORCE_COLOR: '0'},
	},
});
