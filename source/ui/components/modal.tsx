import type {ReactNode} from 'react';
import {Box, Text} from 'ink';
import {useTheme} from '../theme.js';

type ModalProps = {
	readonly title: string;
	readonly width: number;
	readonly height: number;
	/** The area the modal is centred in. */
	readonly areaWidth: number;
	readonly areaHeight: number;
	readonly children: ReactNode;
};

/**
 * A box drawn over the panes. Ink paints only the cells a node writes, so a
 * layer of spaces goes down first to hide what is underneath.
 */
export function Modal({title, width, height, areaWidth, areaHeight, children}: ModalProps) {
	const theme = useTheme();
	const boxWidth = Math.min(width, areaWidth);
	const boxHeight = Math.min(height, areaHeight);
	const blank = ' '.repeat(boxWidth);
	return (
		<Box
			position="absolute"
			marginLeft={Math.max(0, Math.floor((areaWidth - boxWidth) / 2))}
			marginTop={Math.max(0, Math.floor((areaHeight - boxHeight) / 2))}
			width={boxWidth}
			height={boxHeight}
		>
			<Box position="absolute" flexDirection="column">
				{Array.from({length: boxHeight}, (_, row) => (
					<Text key={row}>{blank}</Text>
				))}
			</Box>
			<Box flexDirection="column" borderStyle="double" borderColor={theme.accent} width={boxWidth} height={boxHeight} paddingX={1}>
				<Text bold color={theme.accent}>
					{title}
				</Text>
				{children}
			</Box>
		</Box>
	);
}
