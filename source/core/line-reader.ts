// Newline-delimited messages from a stream: the control socket, and the pipes
// between the scheduler and its job starter. A line may come in thousands of
// chunks (a request adding 100,000 jobs): it is decoded as UTF-8 only once its
// newline arrives, so that a character split between two chunks is read whole.
//
// Memory: the stream's chunks are small (64 KiB from a socket) and come from
// malloc's heap, which does not give freed memory back to the system. Keeping
// the chunks of a long unfinished line would keep them there for as long as
// the client takes, and the heap at that size after it left (measured: ten
// 60 MB clients, 654 MiB after they closed; bench/oversized-clients.mjs). So
// an unfinished line past `ownBufferAfterBytes` is copied into one buffer of
// its own, allocated outside that heap (a large allocation is a mapping of its
// own, returned to the system when freed), and the chunks go at once.
// `release()` drops what is held when the stream ends.

export type LineReaderOptions = {
	/** A line that grows past this many bytes is not kept: `onTooLong` is called, once, and nothing more is read. */
	maxLineBytes?: number;
	onTooLong?: () => void;
};

export type LineReader = ((chunk: Buffer) => void) & {
	/** Drops the unfinished line (the stream ended); returns how many bytes it held. */
	release(): number;
};

/** From this size on, an unfinished line lives in a buffer of its own rather than in the stream's chunks. */
export const ownBufferAfterBytes = 1024 * 1024;

/** Returns the stream's `data` listener, which calls `onLine` for every complete, non-empty line. */
export function lineReader(onLine: (line: string) => void, {maxLineBytes = Number.POSITIVE_INFINITY, onTooLong}: LineReaderOptions = {}): LineReader {
	let partial: Buffer[] = [];
	let partialBytes = 0;
	/** The unfinished line once it passed ownBufferAfterBytes: its first `partialBytes` bytes are the line so far. */
	let own: Buffer | undefined;
	let tooLong = false;

	const release = (): number => {
		const held = partialBytes;
		partial = [];
		own = undefined;
		partialBytes = 0;
		return held;
	};

	const refuse = () => {
		tooLong = true;
		release();
		onTooLong?.();
	};

	const keep = (piece: Buffer) => {
		if (own === undefined && partialBytes + piece.length < ownBufferAfterBytes) {
			partial.push(piece);
			partialBytes += piece.length;
			return;
		}

		if (own === undefined || partialBytes + piece.length > own.length) {
			// Doubling: each byte is copied about twice in all, however many chunks the line takes.
			const grown = Buffer.allocUnsafeSlow(Math.min(Math.max(2 * ownBufferAfterBytes, 2 * (partialBytes + piece.length)), Math.max(maxLineBytes + 1, partialBytes + piece.length)));
			if (own === undefined) Buffer.concat(partial).copy(grown);
			else own.copy(grown, 0, 0, partialBytes);
			own = grown;
			partial = [];
		}

		piece.copy(own, partialBytes);
		partialBytes += piece.length;
	};

	const take = (last: Buffer): string => {
		let line: string;
		if (own === undefined) {
			line = (partial.length === 0 ? last : Buffer.concat([...partial, last])).toString('utf8');
		} else {
			keep(last);
			line = own.toString('utf8', 0, partialBytes);
		}

		release();
		return line;
	};

	const read = (chunk: Buffer) => {
		if (tooLong) return;
		let start = 0;
		let newline = chunk.indexOf(10);
		while (newline !== -1) {
			// A line whose newline came in the chunk that took it past the limit is as much too long as one still without it.
			if (partialBytes + newline - start > maxLineBytes) {
				refuse();
				return;
			}

			const line = take(chunk.subarray(start, newline));
			if (line) onLine(line);
			start = newline + 1;
			newline = chunk.indexOf(10, start);
		}

		if (start === chunk.length) return;
		if (partialBytes + chunk.length - start > maxLineBytes) {
			refuse();
			return;
		}

		keep(chunk.subarray(start));
	};

	return Object.assign(read, {release});
}
