// When what reads a command's output goes away (`jobdeck status | head -1`,
// `jobdeck events | head`, a pager quit early), the next write fails with
// EPIPE: node ignores SIGPIPE, and an 'error' event no one listens to ends the
// process with a stack trace. Every command instead stops quietly, as a Unix
// filter does: exit status 0 (or the one already set), nothing on stderr.
// What it did is unchanged: the scheduler had acknowledged it before a word
// of the reply was printed.

type WhenGone = () => void;

const exitQuietly: WhenGone = () => {
	process.exit(process.exitCode ?? 0);
};

let whenGone: WhenGone = exitQuietly;

/** Called once, first thing, by the entry point, for every command. */
export function stopQuietlyWhenReaderGoes(): void {
	for (const stream of [process.stdout, process.stderr]) {
		stream.on('error', (error: NodeJS.ErrnoException) => {
			if (error.code !== 'EPIPE') throw error;
			whenGone();
		});
	}
}

/** A command that must wind down rather than exit (the headless scheduler) says how. */
export function onReaderGone(handler: WhenGone): void {
	whenGone = handler;
}
