// Newline-delimited messages from a stream: the control socket, and the pipes
// between the scheduler and its job starter. A line may come in thousands of
// chunks (a reply listing 100,000 queued jobs): they are kept as they came and
// joined once, when its newline arrives, and decoded as UTF-8 only then, so
// that a character split between two chunks is read whole.

/** Returns the stream's `data` listener, which calls `onLine` for every complete, non-empty line. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer) => void {
	let partial: Buffer[] = [];
	return chunk => {
		let start = 0;
		let newline = chunk.indexOf(10);
		while (newline !== -1) {
			partial.push(chunk.subarray(start, newline));
			const line = Buffer.concat(partial).toString('utf8');
			partial = [];
			if (line) onLine(line);
			start = newline + 1;
			newline = chunk.indexOf(10, start);
		}

		if (start < chunk.length) partial.push(chunk.subarray(start));
	};
}
