import {listNote} from '../format.js';
import {PaneFrame} from './pane-frame.js';
import {Table, type Column, type TableRowData} from './table.js';

/** What the app tells every list pane. */
export type PaneProps = {
	readonly selected: number;
	readonly focused: boolean;
	readonly filter: string;
	readonly width: number;
	readonly height: number;
};

type ListPaneProps = PaneProps & {
	readonly title: string;
	/** How many items the whole list has; `rows` are only those on screen. */
	readonly length: number;
	/** Index of the first row on screen. */
	readonly windowFrom: number;
	readonly columns: readonly Column[];
	readonly rows: readonly TableRowData[];
	readonly emptyText: string;
};

/** A titled pane holding one windowed table: what every list pane draws. */
export function ListPane({title, length, selected, windowFrom, focused, filter, width, height, columns, rows, emptyText}: ListPaneProps) {
	return (
		<PaneFrame title={title} note={listNote(selected, length, filter)} focused={focused} width={width} height={height}>
			<Table
				columns={columns}
				rows={rows}
				selected={selected - windowFrom}
				active={focused}
				width={width - 2}
				emptyText={emptyText}
			/>
		</PaneFrame>
	);
}
