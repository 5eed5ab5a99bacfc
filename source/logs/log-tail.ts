import {open} from 'node:fs/promises';
import {StringDecoder} from 'node:string_decoder';
import {watch, type FSWatcher} from 'chokidar';
import {toDisplayLine} from './sanitize.js';

// Follows one job's log file the way `tail -f` does, for the output pane.
// A log may be gigabytes long and still growing, so only the end is read on
// open and afterwards only the bytes appended since the last read; memory is
// bounded by a ring of display lines.

export type LogTailOptions = {
	/** How much of the end of the file is read on open, and after a jump over a burst of output. */
	readonly initialBytes?: number;
	/** Display lines kept; older ones are dropped. */
	readonly maxLines?: number;
	/** A second read this long after each change, in case a change went unseen. */
	readonly trailingReadMs?: number;
	/** Reads start at most this often, however many small writes the job makes. */
	readonly minReadIntervalMs?: number;
};

const chunkBytes = 64 * 1024;
const missingFileRetryMs = 250;
/** A line longer than this is shown in pieces, so that output without newlines cannot grow memory. */
const maxLineChars = 16 * 1024;

export class LogTail {
	readonly path: string;
	/** Bytes read from the file in total, so that tests can prove that a big file was not read whole. */
	bytesRead = 0;
	readonly #initialBytes: number;
	readonly #maxLines: number;
	readonly #trailingReadMs: number;
	readonly #minReadIntervalMs: number;
	readonly #listeners = new Set<() => void>();
	#lines: string[] = [];
	#droppedLines = 0;
	#partial = '';
	#decoder = new StringDecoder('utf8');
	#offset = 0;
	#inode: number | undefined;
	#opened = false;
	/** Set when reading starts mid-file: the text before the first newline is a fragment of a line. */
	#dropFirstLine = false;
	#watcher: FSWatcher | undefined;
	#trailingTimer: NodeJS.Timeout | undefined;
	#throttleTimer: NodeJS.Timeout | undefined;
	#lastReadAt = Number.NEGATIVE_INFINITY;
	#reading: Promise<void> | undefined;
	#readAgain = false;
	#closed = false;

	static open(path: string, options: LogTailOptions = {}): LogTail {
		const tail = new LogTail(path, options);
		void tail.refresh();
		return tail;
	}

	private constructor(path: string, options: LogTailOptions) {
		this.path = path;
		this.#initialBytes = options.initialBytes ?? 64 * 1024;
		this.#maxLines = options.maxLines ?? 2000;
		this.#trailingReadMs = options.trailingReadMs ?? 80;
		this.#minReadIntervalMs = options.minReadIntervalMs ?? 10;
	}

	/** The newest lines, ready to print; the last one may still be growing. A copy: the ring keeps changing. */
	get lines(): readonly string[] {
		return this.#partial.length > 0 ? [...this.#lines, toDisplayLine(this.#partial)] : [...this.#lines];
	}

	/** How many lines came before lines[0]: dropped from the ring since the tail was opened. */
	get firstLineNumber(): number {
		return this.#droppedLines;
	}

	/** Called after every read that changed the lines. */
	subscribe(listener: () => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/** Reads whatever was appended since the last read; concurrent calls share one read. */
	async refresh(): Promise<void> {
		if (this.#closed) return;
		if (this.#reading) {
			this.#readAgain = true;
			return this.#reading;
		}

		this.#reading = this.#readAppended()
			.catch(() => undefined)
			.finally(() => {
				this.#reading = undefined;
				if (this.#readAgain) {
					this.#readAgain = false;
					void this.refresh();
				}
			});
		return this.#reading;
	}

	async close(): Promise<void> {
		this.#closed = true;
		clearTimeout(this.#trailingTimer);
		clearTimeout(this.#throttleTimer);
		this.#listeners.clear();
		await this.#watcher?.close();
	}

	#watch(): void {
		// Not persistent: an open output pane must never keep the process alive on its own.
		this.#watcher = watch(this.path, {persistent: false, ignoreInitial: true});
		const onChange = (): void => {
			this.#readSoon();
			this.#scheduleRead(this.#trailingReadMs);
		};

		// Until the watcher is ready, an append could go unseen: read once more then.
		// chokidar emits at most one `change` a file per 50 ms and drops the others, so a job writing a line
		// every 20 ms had most of its lines shown only with the next one or the trailing read, up to 80 ms
		// late. Its `raw` events are every one the kernel reported (fs.watch), none dropped.
		this.#watcher.on('ready', onChange).on('add', onChange).on('change', onChange).on('raw', onChange).on('error', () => undefined);
	}

	/** A read now, or, when one started less than minReadIntervalMs ago, once that interval is over. */
	#readSoon(): void {
		if (this.#closed || this.#throttleTimer) return;
		const waitMs = this.#lastReadAt + this.#minReadIntervalMs - performance.now();
		if (waitMs <= 0) {
			void this.refresh();
			return;
		}

		this.#throttleTimer = setTimeout(() => {
			this.#throttleTimer = undefined;
			void this.refresh();
		}, waitMs);
		this.#throttleTimer.unref();
	}

	#scheduleRead(delayMs: number): void {
		if (this.#closed) return;
		clearTimeout(this.#trailingTimer);
		this.#trailingTimer = setTimeout(() => void this.refresh(), delayMs);
		this.#trailingTimer.unref();
	}

	async #readAppended(): Promise<void> {
		this.#lastReadAt = performance.now();
		let handle;
		try {
			handle = await open(this.path, 'r');
		} catch {
			// Not created yet: a job's log appears once its process is spawned, usually milliseconds later.
			// chokidar does not see a watched file being created, so look again shortly.
			this.#scheduleRead(missingFileRetryMs);
			return;
		}

		if (!this.#watcher && !this.#closed) this.#watch();

		try {
			const {size, ino} = await handle.stat();
			let changed = false;
			if ((this.#inode !== undefined && ino !== this.#inode) || size < this.#offset) {
				this.#restart('(the log was truncated or replaced)');
				changed = true;
			}

			this.#inode = ino;
			// On open, or after a burst far bigger than what is kept, read only the end.
			const skipTo = size - this.#initialBytes;
			if (skipTo > this.#offset && (!this.#opened || size - this.#offset > this.#initialBytes * 16)) {
				if (this.#opened) this.#restart(`(${formatBytes(skipTo - this.#offset)} of output skipped)`);
				this.#offset = skipTo;
				this.#dropFirstLine = true;
				changed = true;
			}

			this.#opened = true;
			const buffer = Buffer.allocUnsafe(chunkBytes);
			while (this.#offset < size && !this.#closed) {
				const {bytesRead} = await handle.read(buffer, 0, Math.min(chunkBytes, size - this.#offset), this.#offset);
				if (bytesRead === 0) break;
				this.#offset += bytesRead;
				this.bytesRead += bytesRead;
				this.#ingest(this.#decoder.write(buffer.subarray(0, bytesRead)));
				changed = true;
			}

			if (changed && !this.#closed) for (const listener of this.#listeners) listener();
		} finally {
			await handle.close();
		}
	}

	#ingest(text: string): void {
		const pieces = (this.#partial + text).split('\n');
		this.#partial = pieces.pop() ?? '';
		if (this.#dropFirstLine && pieces.length > 0) {
			pieces.shift();
			this.#dropFirstLine = false;
		}

		for (const piece of pieces) this.#lines.push(toDisplayLine(piece));
		while (this.#partial.length > maxLineChars) {
			this.#lines.push(toDisplayLine(this.#partial.slice(0, maxLineChars)));
			this.#partial = this.#partial.slice(maxLineChars);
			this.#dropFirstLine = false;
		}

		if (this.#lines.length > this.#maxLines) {
			this.#droppedLines += this.#lines.length - this.#maxLines;
			this.#lines = this.#lines.slice(-this.#maxLines);
		}
	}

	#restart(notice: string): void {
		this.#offset = 0;
		this.#partial = '';
		this.#decoder = new StringDecoder('utf8');
		this.#lines.push(notice);
	}
}

function formatBytes(bytes: number): string {
	if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KiB`;
	return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
