import {describe, expect, test} from 'vitest';
import {formatDuration} from '../../source/core/format-duration.js';
import {nextVisibleChange} from '../../source/ui/state/next-visible-change.js';
import {nextProgressChange, sessionProgress} from '../../source/ui/state/progress.js';
import type {SchedulerModel} from '../../source/ui/state/scheduler-model.js';

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

describe('nextVisibleChange', () => {
	test('an elapsed time under an hour changes every second, rounded up to a whole second', () => {
		expect(nextVisibleChange(5500, [{since: 0}])).toBe(6000);
		expect(nextVisibleChange(10_000, [{since: 300}])).toBe(11_000); // 9.7s → 10.3s reads 10s
	});

	test('an elapsed time over an hour changes every minute, over a day every hour', () => {
		expect(nextVisibleChange(hour + minute + 500, [{since: 0}])).toBe(hour + 2 * minute);
		expect(nextVisibleChange(25 * hour + 30 * minute, [{since: 0}])).toBe(26 * hour);
		expect(nextVisibleChange(59 * minute + 59 * second + 200, [{since: 0}])).toBe(hour);
	});

	test('at the moment it returns, the time reads differently; a second before, it read the same as now', () => {
		for (const elapsed of [0, 999, 1000, 59_999, 61_234, 3_599_999, 3_600_001, 7_259_000, 86_399_999, 90_000_000, 200_000_000]) {
			const now = 1_700_000_000_123;
			const since = now - elapsed;
			const at = nextVisibleChange(now, [{since}])!;
			expect(formatDuration(at - since)).not.toBe(formatDuration(elapsed));
			expect(formatDuration(Math.max(now, at - second) - since)).toBe(formatDuration(elapsed));
		}
	});

	test('a countdown changes as what is left drops, and goes when it ends', () => {
		expect(nextVisibleChange(0, [{until: 10_500}])).toBe(1000);
		expect(formatDuration(10_500 - 1000)).not.toBe(formatDuration(10_500));
		expect(nextVisibleChange(0, [{until: 2 * hour + 30 * second}])).toBe(30 * second);
		expect(nextVisibleChange(5000, [{until: 5000}])).toBeUndefined();
	});

	test('a message goes at its moment; the soonest change wins; nothing shown means no redraw', () => {
		expect(nextVisibleChange(1000, [{at: 8000}])).toBe(8000);
		expect(nextVisibleChange(9000, [{at: 8000}])).toBeUndefined();
		expect(nextVisibleChange(2 * hour, [{since: 0}, {at: 2 * hour + 5000}, {since: 2 * hour - 500}])).toBe(2 * hour + 1000);
		expect(nextVisibleChange(1000, [])).toBeUndefined();
	});
});

describe('nextProgressChange', () => {
	const model = (finished: number, firstFinishAt: number | undefined, paused: boolean, queueLength: number) =>
		({session: {startedAt: 0, finished, firstFinishAt}, queueLength, running: new Map(), paused}) as unknown as SchedulerModel;
	const rateText = (m: SchedulerModel, now: number) => sessionProgress(m, now).jobsPerMinute?.toFixed(sessionProgress(m, now).jobsPerMinute! < 10 ? 1 : 0);

	test('nothing finished: the header shows no time, so nothing to redraw for', () => {
		const idle = model(0, undefined, true, 100_000);
		expect(nextProgressChange(sessionProgress(idle, 5000), idle, 5000)).toBeUndefined();
	});

	test('an ETA ticks every second', () => {
		const working = model(10, 1000, false, 50);
		expect(nextProgressChange(sessionProgress(working, 60_000), working, 60_000)).toEqual({at: 61_000});
	});

	test('a rate alone changes when it drops to the next value shown, not before', () => {
		for (const [finished, now] of [[3, 40_000], [500, 10 * minute], [31, 3 * minute], [5, 30 * minute]] as const) {
			const done = model(finished, 1000, false, 0);
			const change = nextProgressChange(sessionProgress(done, now), done, now);
			expect(change).toHaveProperty('at');
			const {at} = change as {at: number};
			expect(at).toBeGreaterThan(now);
			expect(rateText(done, at)).not.toBe(rateText(done, now));
			expect(rateText(done, at - 2)).toBe(rateText(done, now));
		}
	});

	test('a rate shown as 0.0 stays so: no redraw for it', () => {
		const long = model(2, 1000, false, 0);
		expect(rateText(long, 20 * hour)).toBe('0.0');
		expect(nextProgressChange(sessionProgress(long, 20 * hour), long, 20 * hour)).toBeUndefined();
	});
});
