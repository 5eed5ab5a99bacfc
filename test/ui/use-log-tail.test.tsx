import {appendFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Text} from 'ink';
import {render} from 'ink-testing-library';
import {act} from 'react';
import {afterEach, beforeEach, describe, expect, test, vi} from 'vitest';
import {LogTail} from '../../source/logs/log-tail.js';
import {useLogTail} from '../../source/ui/hooks/use-log-tail.js';
import {waitFor} from '../helpers/jobdeck.js';

// useLogTail on a real, growing file, rendered by Ink.

let dir: string;
let unmount: (() => void) | undefined;
beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'jobdeck-use-tail-'));
});
afterEach(() => {
	vi.restoreAllMocks();
	unmount?.();
	unmount = undefined;
	rmSync(dir, {recursive: true, force: true});
});

function Lines({path, refreshMs}: {readonly path: string; readonly refreshMs: number}) {
	const view = useLogTail(path, refreshMs);
	return <Text>{view.lines.join('|') || '(none)'}</Text>;
}

describe('useLogTail', () => {
	test('output after a quiet spell shows at once; more within the interval waits for its end', async () => {
		const path = join(dir, 'job.txt');
		writeFileSync(path, 'first\n');
		// An interval of ten minutes, far longer than any wait here: what shows before it ends was not held
		// back by it (every publication used to wait out the interval first).
		const opened = vi.spyOn(LogTail, 'open');
		const app = render(<Lines path={path} refreshMs={600_000} />);
		unmount = app.unmount;
		await waitFor(() => app.lastFrame() === 'first', undefined, () => `'first' on the screen; it shows ${JSON.stringify(app.lastFrame())}`);
		// Within the interval after that: held back, so that a chatty job cannot redraw the screen at will.
		// A negative check, so first the point where a hook that did not hold it back would have drawn it:
		// its tail (the real one, watched through the spy) has read the line and told its subscribers, a
		// publication due at once would have run by the next timer, and act() flushes whatever React has left.
		const tail = opened.mock.results[0]!.value as LogTail;
		appendFileSync(path, 'second\n');
		await waitFor(() => tail.lines.includes('second'), undefined, () => `the hook's tail to read the new line; it has ${JSON.stringify(tail.lines)}`);
		await flushReact();
		expect(app.lastFrame()).toBe('first');
	});
});

/** Runs the timers due now, then lets React finish every update it has pending, in an act environment only meanwhile. */
async function flushReact(): Promise<void> {
	await new Promise(resolve => {
		setTimeout(resolve, 0);
	});
	const global = globalThis as {IS_REACT_ACT_ENVIRONMENT?: boolean};
	const before = global.IS_REACT_ACT_ENVIRONMENT;
	global.IS_REACT_ACT_ENVIRONMENT = true;
	try {
		// Async act (the callback returns a promise): it flushes the updates of effects that ran in the meantime.
		await act(() => Promise.resolve());
	} finally {
		global.IS_REACT_ACT_ENVIRONMENT = before;
	}
}
