import {useEffect, useState} from 'react';
import {readLastLine} from '../../logs/last-line.js';

/**
 * The last line of output of each given log, refreshed every `intervalMs`.
 * Only the rows on screen ask, so the cost stays at a few small reads a
 * second with a thousand jobs running.
 */
export function useLastLines(logFiles: readonly string[], intervalMs = 1000): ReadonlyMap<string, string> {
	const [lastLines, setLastLines] = useState<ReadonlyMap<string, string>>(new Map());
	const key = logFiles.join('\n');
	useEffect(() => {
		const files = key ? key.split('\n') : [];
		let disposed = false;
		const read = async (): Promise<void> => {
			const lines = await Promise.all(files.map(async file => readLastLine(file)));
			if (disposed) return;
			setLastLines(previous => {
				const unchanged = files.length === previous.size && files.every((file, index) => previous.get(file) === lines[index]);
				return unchanged ? previous : new Map(files.map((file, index) => [file, lines[index] ?? '']));
			});
		};

		void read();
		const timer = setInterval(() => void read(), intervalMs);
		return () => {
			disposed = true;
			clearInterval(timer);
		};
	}, [key, intervalMs]);
	return lastLines;
}
