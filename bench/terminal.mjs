// Shared by the benchmarks that run jobdeck in a real terminal: a tmux server
// of their own (its own socket, so that nothing of the user's is touched),
// what its windows show, and which process a window runs.
import {execFileSync, spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {sleep} from './process-figures.mjs';

export function tmuxServer(name) {
	const socket = `${name}-${process.pid}`;
	const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
	return {
		tmux,
		screen: window => tmux('capture-pane', '-p', '-t', window),

		/** Polls the window's screen until `test` passes; resolves with that screen. */
		async waitForScreen(window, test, timeoutMs = 60_000) {
			const deadline = performance.now() + timeoutMs;
			for (;;) {
				const screen = tmux('capture-pane', '-p', '-t', window);
				if (test(screen)) return screen;
				if (performance.now() > deadline) throw new Error(`timed out; screen:\n${screen}`);
				await sleep(2);
			}
		},

		/** The pid of the program a window runs (tmux starts it through sh, which may exec it). */
		programPid(window, program = 'node') {
			const panePid = Number(tmux('display-message', '-p', '-t', window, '#{pane_pid}').trim());
			if (readFileSync(`/proc/${panePid}/comm`, 'utf8').trim() === program) return panePid;
			return Number(execFileSync('pgrep', ['-P', String(panePid), program], {encoding: 'utf8'}).trim().split('\n')[0]);
		},

		kill() {
			spawnSync('tmux', ['-L', socket, 'kill-server']);
		},
	};
}
