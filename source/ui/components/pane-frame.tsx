import type {ReactNode} from 'react';
import {Box, Text} from 'ink';
import {useTheme} from '../theme.js';

type PaneFrameProps = {
	readonly title: string;
	/** Shown after the title, such as the position in the list or the filter. */
	readonly note?: string;
	readonly focused: boolean;
	readonly width: number;
	readonly height: number;
	readonly children: ReactNode;
};

// Ink 6 boxes cannot carry a title in their border, so the top edge is drawn
// here as text. The focused pane gets a double line: visible without colour.
const edges = {
	focused: {left: '╔═', fill: '═', right: '╗', style: 'double'},
	normal: {left: '╭─', fill: '─', right: '╮', style: 'round'},
} as const;

export function PaneFrame({title, note, focused, width, height, children}: PaneFrameProps) {
	const theme = useTheme();
	const edge = focused ? edges.focused : edges.normal;
	const label = ` ${title}${note ? ` ${note}` : ''} `;
	const room = Math.max(0, width - edge.left.length - edge.right.length);
	// Code points, one terminal cell each for what a title holds (see fit in format.ts).
	const shownLabel = Array.from(label).slice(0, room).join('');
	const fill = edge.fill.repeat(Math.max(0, room - Array.from(shownLabel).length));
	const borderColor = focused ? theme.accent : theme.muted;
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Text wrap="truncate-end">
				<Text color={borderColor}>{edge.left}</Text>
				<Text bold={focused}>{shownLabel}</Text>
				<Text color={borderColor}>
					{fill}
					{edge.right}
				</Text>
			</Text>
			{/* Keyed by style: Ink 6 applies only the changed style props, and a new borderStyle alone brings the top border back. */}
			<Box
				key={edge.style}
				flexDirection="column"
				borderStyle={edge.style}
				borderTop={false}
				borderColor={borderColor}
				width={width}
				height={height - 1}
				overflow="hidden"
			>
				{children}
			</Box>
		</Box>
	);
}
