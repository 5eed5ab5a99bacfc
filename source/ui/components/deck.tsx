import {Box} from 'ink';
import type {LogView} from '../hooks/use-log-tail.js';
import type {Layout, PaneBox} from '../state/layout.js';
import type {PaneItems} from '../state/pane-items.js';
import type {ListPaneId, OutputTarget, UiState} from '../state/ui-state.js';
import {HistoryPane} from './history-pane.js';
import {OutputPane} from './output-pane.js';
import {QueuePane} from './queue-pane.js';
import {RunningPane} from './running-pane.js';
import {WorkersPane} from './workers-pane.js';

type DeckProps = {
	readonly layout: Layout;
	readonly ui: UiState;
	readonly items: PaneItems;
	readonly selected: Readonly<Record<ListPaneId, number>>;
	readonly paused: boolean;
	readonly now: number;
	/** Why a queued job waits. */
	readonly output: {readonly target?: OutputTarget; readonly status: string; readonly failed: boolean; readonly view: LogView};
};

/** The panes, placed by the layout. */
export function Deck({layout, ui, items, selected, paused, now, output}: DeckProps) {
	const pane = ({pane, width, height}: PaneBox) => {
		const common = {width, height, focused: ui.focus === pane, filter: ui.filters[pane]};
		switch (pane) {
			case 'workers': {
				return <WorkersPane key={pane} {...common} workers={items.workers} selected={selected.workers} />;
			}

			case 'queue': {
				return <QueuePane key={pane} {...common} jobs={items.queue} selected={selected.queue} paused={paused} now={now} />;
			}

			case 'running': {
				return <RunningPane key={pane} {...common} runs={items.running} selected={selected.running} now={now} />;
			}

			case 'history': {
				return <HistoryPane key={pane} {...common} runs={items.history} selected={selected.history} />;
			}

			case 'output': {
				return <OutputPane key={pane} {...common} {...output} scroll={ui.outputScroll} />;
			}
		}
	};

	return (
		<Box height={layout.bodyHeight} width={layout.width}>
			{layout.columns.map((column, index) => (
				<Box key={index} flexDirection="column" flexShrink={0}>
					{column.map(box => pane(box))}
				</Box>
			))}
		</Box>
	);
}
