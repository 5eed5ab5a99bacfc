import {useRef} from 'react';
import {scrollWindow, type ListWindow} from '../state/list-window.js';

/**
 * The rows a list shows: only these are rendered, whatever the length of the
 * list. The window moves only as far as needed to keep the cursor in view,
 * so it remembers where it was.
 */
export function useListWindow(cursor: number, length: number, height: number): ListWindow {
	const from = useRef(0);
	const window = scrollWindow(from.current, cursor, length, height);
	from.current = window.from;
	return window;
}
