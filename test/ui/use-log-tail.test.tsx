import {appendFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Text} from 'ink';
import {render} from 'ink-testing-library';
import {afterEach, beforeEach, describe, expect, test, vi} from 'vitest';
import {useLogTail} from '../../source/ui/hooks/use-log-tail.js';

// useLogTail on a real, growing file, rendered by Ink.

let dir: string;
let unmount: (() => void) | undefined;
beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'jobdeck-use-tail-'));
});
afterEach(() => {
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
		// An interval far longer than any wait here: what shows before it ends was not held back by it
		// (every publication used to wait out the interval first, so 'first' took ten seconds).
		const app = render(<Lines path={path} refreshMs={10_000} />);
		unmount = app.unmount;
		// Less than the interval: showing it within this deadline proves it was not held back.
		await vi.waitFor(() => expect(app.lastFrame()).toBe('first'), {timeout: 8000, interval: 20});
		// Within the interval after that: held back, so that a chatty job cannot redraw the screen at will.
		appendFileSync(path, 'second\n');
		await new Promise(resolve => setTimeout(resolve, 500));
		expect(app.lastFrame()).toBe('first');
	});
});
