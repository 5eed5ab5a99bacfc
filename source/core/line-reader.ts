// Newline-delimited messages from a stream: the control socket, and the pipes
// between the scheduler and its job starter. A line may come in thousands of
// chunks (a reply listing 100,000 queued jobs): they are kept as they came and
// joined once, when its newline arrives, and decoded as UTF-8 only then, so
// that a character split between two chunks is read whole.

export type LineReaderOptions = {
	/** A line that grows past this many bytes is not kept: `onTooLong` is called, once, and nothing more is read. */
	maxLineBytes?: number;
	onTooLong?: () => void;
};

/** Returns the stream's `data` listener, which calls `onLine` for every complete, non-empty line. */
export function lineReader(onLine: (line: string) => void, {maxLineBytes = Number.POSITIVE_INFINITY, onTooLong}: LineReaderOptions = {}): (chunk: Buffer) => void {
	let partial: Buffer[] = [];
	let partialBytes = 0;
	let tooLong = false;
	return chunk => {
		if (tooLong) return;
		let start = 0;
		let newline = chunk.indexOf(10);
		while (newline !== -1) {
			// A line whose newline came in the chunk that took it past the limit is as much too long as one still without it.
			if (partialBytes + newline - start > maxLineBytes) {
				tooLong = true;
				partial = [];
				onTooLong?.();
				return;
			}

			partial.push(chunk.subarray(start, newline));
			const line = Buffer.concat(partial).toString('utf8');
			partial = [];
			partialBytes = 0;
			if (line) onLine(line);
			start = newline + 1;
			newline = chunk.indexOf(10, start);
		}

		if (start === chunk.length) return;
		partial.push(chunk.subarray(start));
		partialBytes += chunk.length - start;
		if (partialBytes > maxLineBytes) {
			tooLong = true;
			partial = [];
			onTooLong?.();
		}
	};
}
