import {Box, Text} from 'ink';
import {fit} from '../format.js';

// A one-line-per-row table for the list panes. Each row is a single Text of
// exactly the pane's width, so the window arithmetic holds and the selected
// row's reverse video spans the whole line.

export type Column = {
	readonly title: string;
	/** Omitted for the one column that takes the width left over. */
	readonly width?: number;
	readonly align?: 'left' | 'right';
};

export type Cell = {
	readonly text: string;
	readonly color?: string;
	readonly bold?: boolean;
	readonly dim?: boolean;
};

export type TableRowData = {readonly key: string | number; readonly cells: readonly Cell[]};

type TableProps = {
	readonly columns: readonly Column[];
	/** Only the rows on screen. */
	readonly rows: readonly TableRowData[];
	/** Index into `rows` of the selection, or -1. */
	readonly selected: number;
	readonly active: boolean;
	readonly width: number;
	readonly emptyText: string;
};

export function Table({columns, rows, selected, active, width, emptyText}: TableProps) {
	const widths = columnWidths(columns, width - 1);
	return (
		<Box flexDirection="column">
			<Text dimColor wrap="truncate-end">
				{' ' + columns.map((column, index) => fit(column.title, widths[index] ?? 0, column.align)).join(' ')}
			</Text>
			{rows.length === 0 ? (
				<Text dimColor wrap="truncate-end">
					{' ' + emptyText}
				</Text>
			) : (
				rows.map((row, index) => (
					<TableRow key={row.key} cells={row.cells} columns={columns} widths={widths} selected={index === selected} active={active} />
				))
			)}
		</Box>
	);
}

type TableRowProps = {
	readonly cells: readonly Cell[];
	readonly columns: readonly Column[];
	readonly widths: readonly number[];
	readonly selected: boolean;
	readonly active: boolean;
};

function TableRow({cells, columns, widths, selected, active}: TableRowProps) {
	return (
		<Text wrap="truncate-end" inverse={selected && active} bold={selected && !active}>
			{selected ? '›' : ' '}
			{cells.map((cell, index) => (
				<Text key={index} color={cell.color} bold={cell.bold} dimColor={cell.dim && !(selected && active)}>
					{(index > 0 ? ' ' : '') + fit(cell.text, widths[index] ?? 0, columns[index]?.align)}
				</Text>
			))}
		</Text>
	);
}

function columnWidths(columns: readonly Column[], width: number): number[] {
	const fixed = columns.reduce((sum, column) => sum + (column.width ?? 0), 0) + columns.length - 1;
	const rest = Math.max(4, width - fixed);
	return columns.map(column => column.width ?? rest);
}
