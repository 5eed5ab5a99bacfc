import {appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync, openSync, closeSync, ftruncateSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, test, vi} from 'vitest';
import {readLastLine} from '../../source/logs/last-line.js';
import {LogTail} from '../../source/logs/log-tail.js';

let dir: string;
let tails: LogTail[] = [];
beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'jobdeck-tail-'));
});
afterEach(async () => {
	vi.restoreAllMocks();
	await Promise.all(tails.map(async tail => tail.close()));
	tails = [];
	rmSync(dir, {recursive: true, force: true});
});

function open(path: string, options?: Parameters<typeof LogTail.open>[1]): LogTail {
	const tail = LogTail.open(path, options);
	tails.push(tail);
	return tail;
}

describe('LogTail', () => {
	test('shows what is there, then each append within a fraction of a second, reading only the new bytes', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, 'one\ntwo\n');
		const tail = open(path);
		await vi.waitFor(() => expect(tail.lines).toEqual(['one', 'two']), {timeout: 30_000, interval: 20});
		const before = tail.bytesRead;
		appendFileSync(path, 'three\n');
		await vi.waitFor(() => expect(tail.lines).toEqual(['one', 'two', 'three']), {timeout: 30_000, interval: 20});
		expect(tail.bytesRead - before).toBe('three\n'.length);
	});

	test('appends 20 ms apart are all seen: chokidar drops the second change, the trailing read does not', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, '');
		const tail = open(path);
		await tail.refresh();
		for (let index = 0; index < 5; index++) {
			appendFileSync(path, `line ${index}\n`);
			await new Promise(resolve => setTimeout(resolve, 20));
		}

		await vi.waitFor(() => expect(tail.lines.at(-1)).toBe('line 4'), {timeout: 30_000, interval: 20});
		expect(tail.lines).toHaveLength(5);
	});

	test('appends chokidar drops (a second change within 50 ms) are read without waiting for the trailing read', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, '');
		// A trailing read ten minutes later cannot help: what is seen here came through the watcher.
		const tail = open(path, {trailingReadMs: 600_000});
		const refreshes = vi.spyOn(tail, 'refresh');
		await tail.refresh();
		// The watcher is ready (it reads once more then, through refresh()): appends from now on are its to see.
		await vi.waitFor(() => expect(refreshes.mock.calls.length).toBeGreaterThanOrEqual(2), {timeout: 30_000, interval: 20});
		for (let index = 0; index < 3; index++) {
			appendFileSync(path, `line ${index}\n`);
			// Pacing, not waiting for anything: appends closer together than chokidar's 50 ms. A busy machine
			// may space them further apart, which makes the case easier, never a wrong failure.
			await new Promise(resolve => setTimeout(resolve, 15));
		}

		// chokidar's change events alone showed 'line 0' only, until the next write.
		await vi.waitFor(() => expect(tail.lines).toEqual(['line 0', 'line 1', 'line 2']), {timeout: 30_000, interval: 20});
	});

	test('a file that does not exist yet is picked up when it appears', async () => {
		const path = join(dir, 'later.txt');
		const tail = open(path);
		await tail.refresh();
		expect(tail.lines).toEqual([]);
		writeFileSync(path, 'hello\n');
		await vi.waitFor(() => expect(tail.lines).toEqual(['hello']), {timeout: 30_000, interval: 20});
	});

	test('shows a line still being written, then completes it', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, 'progress: 10');
		const tail = open(path);
		await vi.waitFor(() => expect(tail.lines).toEqual(['progress: 10']), {timeout: 30_000, interval: 20});
		appendFileSync(path, '0%\n');
		await vi.waitFor(() => expect(tail.lines).toEqual(['progress: 100%']), {timeout: 30_000, interval: 20});
	});

	test('after truncation it starts again from the beginning', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, 'old line 1\nold line 2\n');
		const tail = open(path);
		await vi.waitFor(() => expect(tail.lines).toHaveLength(2), {timeout: 30_000, interval: 20});
		truncateSync(path, 0);
		appendFileSync(path, 'new\n');
		await vi.waitFor(() => expect(tail.lines.at(-1)).toBe('new'), {timeout: 30_000, interval: 20});
		expect(tail.lines).toContain('(the log was truncated or replaced)');
	});

	test('opening a 1 GB log reads only its last 64 KiB', async () => {
		const path = join(dir, 'huge.txt');
		// A sparse file: a gigabyte long without taking a gigabyte of disk.
		const fd = openSync(path, 'w');
		ftruncateSync(fd, 1024 ** 3);
		writeSync(fd, '\nsecond to last\nthe end\n', 1024 ** 3);
		closeSync(fd);
		const tail = open(path);
		await vi.waitFor(() => expect(tail.lines.at(-1)).toBe('the end'), {timeout: 30_000, interval: 20});
		// What it read, not how long it took (a busy machine is slow at everything): the last 64 KiB only.
		expect(tail.bytesRead).toBeLessThanOrEqual(64 * 1024 + 64);
		expect(tail.lines.at(-2)).toBe('second to last');
	});

	test('a burst far bigger than the ring is skipped over, not read', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, 'start\n');
		const tail = open(path, {initialBytes: 1024});
		await vi.waitFor(() => expect(tail.lines).toEqual(['start']), {timeout: 30_000, interval: 20});
		appendFileSync(path, 'x'.repeat(99) + '\n'.repeat(1) + `${'y'.repeat(99)}\n`.repeat(1000) + 'last\n');
		await vi.waitFor(() => expect(tail.lines.at(-1)).toBe('last'), {timeout: 30_000, interval: 20});
		expect(tail.bytesRead).toBeLessThan(4 * 1024);
		expect(tail.lines.some(line => line.includes('skipped'))).toBe(true);
	});

	test('keeps a bounded number of lines and counts the dropped ones', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, Array.from({length: 100}, (_, index) => `line ${index}`).join('\n') + '\n');
		const tail = open(path, {maxLines: 10});
		await vi.waitFor(() => expect(tail.lines.at(-1)).toBe('line 99'), {timeout: 30_000, interval: 20});
		expect(tail.lines).toHaveLength(10);
		expect(tail.firstLineNumber).toBe(90);
	});

	test('control sequences in the output never reach the lines', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, '\u001B[2J\u001B]0;title\u0007\u001B[Hhello\n');
		const tail = open(path);
		await vi.waitFor(() => expect(tail.lines).toEqual(['hello']), {timeout: 30_000, interval: 20});
	});
});

describe('readLastLine', () => {
	test('the last non-empty line, clean, from the end of the file only', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, `${'x'.repeat(100_000)}\nfirst\n\u001B[32mlast one\u001B[0m\n\n`);
		expect(await readLastLine(path)).toBe('last one');
		expect(await readLastLine(join(dir, 'missing.txt'))).toBe('');
	});
});
