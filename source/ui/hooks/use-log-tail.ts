import {useEffect, useState} from 'react';
import {LogTail} from '../../logs/log-tail.js';

export type LogView = {
	readonly lines: readonly string[];
	/** The number of lines[0] counted from the start of the log, so that a scrolled view stays put as old lines drop. */
	readonly firstLine: number;
};

const emptyView: LogView = {lines: [], firstLine: 0};

/**
 * The tail of one log file, re-rendered at most every `refreshMs` however fast
 * the job writes. A line written after a quiet spell shows at once: waiting
 * out the interval first put every single line `refreshMs` late on screen.
 * The interval must be longer than Ink's frame (run-ui's maxFps 30: 34 ms):
 * Ink puts off a render asked for within a frame of the last one to the end of
 * the next, so at maxFps 20 a 50 ms interval drew only every 100 ms, each frame
 * 50 ms late.
 */
export function useLogTail(path: string | undefined, refreshMs = 50): LogView {
	const [view, setView] = useState<LogView>(emptyView);
	useEffect(() => {
		// eslint-disable-next-line react-hooks/set-state-in-effect -- the lines shown belong to the previous path: cleared as the tail of the new one opens
		setView(emptyView);
		if (!path) return;
		const tail = LogTail.open(path);
		let timer: NodeJS.Timeout | undefined;
		let publishedAt = Number.NEGATIVE_INFINITY;
		const publish = (): void => {
			timer = undefined;
			publishedAt = performance.now();
			setView({lines: tail.lines, firstLine: tail.firstLineNumber});
		};

		const unsubscribe = tail.subscribe(() => {
			timer ??= setTimeout(publish, Math.max(0, publishedAt + refreshMs - performance.now()));
		});
		return () => {
			clearTimeout(timer);
			unsubscribe();
			void tail.close();
		};
	}, [path, refreshMs]);
	return view;
}
