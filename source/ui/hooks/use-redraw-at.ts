import {useEffect, useReducer} from 'react';

// setTimeout takes at most 2^31 - 1 ms; a later moment is waited for in steps.
const longestWaitMs = 3_600_000;

/**
 * Redraws the screen at `at`, the moment something it shows (a waited or
 * elapsed time) next reads differently; never when nothing will. It replaces
 * a clock redrawing the whole screen every second whether or not anything on
 * it had changed.
 */
export function useRedrawAt(at: number | undefined): void {
	const [redraws, redraw] = useReducer((count: number) => count + 1, 0);
	// Armed again after every redraw it made: a timer firing a little early finds `at` unchanged and waits the rest.
	useEffect(() => {
		if (at === undefined) return;
		const timer = setTimeout(redraw, Math.min(longestWaitMs, Math.max(0, at - Date.now())));
		return () => {
			clearTimeout(timer);
		};
	}, [at, redraws]);
}
