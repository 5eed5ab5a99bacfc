import type {PaneId} from './ui-state.js';

// Where the panes go for a terminal size. Sizes are computed here rather than
// left to flexbox because every list must know how many rows it can show: it
// renders only those.
//
//   narrow (< 60x16)  one pane, the focused one
//   two columns       Workers over Queue (or History) | Running over Output
//   wide (>= 150x30)  Workers over Queue | Running over History | Output

export type PaneBox = {readonly pane: PaneId; readonly width: number; readonly height: number};

export type Layout = {
	readonly width: number;
	/** One row less than the terminal: a frame as tall as the terminal makes Ink clear the screen on every redraw. */
	readonly height: number;
	readonly headerHeight: number;
	readonly bodyHeight: number;
	/** Left to right, each a stack of panes top to bottom. */
	readonly columns: ReadonlyArray<readonly PaneBox[]>;
};

export const headerHeight = 3;
export const footerHeight = 1;

export function computeLayout(columns: number, rows: number, focus: PaneId, shownList: 'queue' | 'history'): Layout {
	const width = Math.max(20, columns);
	const height = Math.max(headerHeight + footerHeight + 3, rows - 1);
	const bodyHeight = height - headerHeight - footerHeight;
	const base = {width, height, headerHeight, bodyHeight};
	if (columns < 60 || rows < 16) {
		return {...base, columns: [[{pane: focus, width, height: bodyHeight}]]};
	}

	const top = Math.min(bodyHeight - 5, Math.max(5, Math.round(bodyHeight * 0.4)));
	const bottom = bodyHeight - top;
	if (columns >= 150 && rows >= 30) {
		const first = Math.floor(width * 0.32);
		const second = Math.floor(width * 0.32);
		return {
			...base,
			columns: [
				[{pane: 'workers', width: first, height: top}, {pane: 'queue', width: first, height: bottom}],
				[{pane: 'running', width: second, height: top}, {pane: 'history', width: second, height: bottom}],
				[{pane: 'output', width: width - first - second, height: bodyHeight}],
			],
		};
	}

	const left = Math.floor(width / 2);
	return {
		...base,
		columns: [
			[{pane: 'workers', width: left, height: top}, {pane: shownList, width: left, height: bottom}],
			[{pane: 'running', width: width - left, height: top}, {pane: 'output', width: width - left, height: bottom}],
		],
	};
}
