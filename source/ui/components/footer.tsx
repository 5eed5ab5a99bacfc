import {Box, Text} from 'ink';
import {TextField} from './text-field.js';
import type {Hint} from '../state/keymap.js';
import type {Message} from '../state/ui-state.js';
import {useTheme} from '../theme.js';

type FooterProps = {
	readonly hints: readonly Hint[];
	/** The outcome of the last action; it goes first, and the hints give way to it. */
	readonly message?: Message;
	/** While filtering: the pane's name and the filter being typed. */
	readonly filter?: {readonly pane: string; readonly text: string; readonly onChange: (text: string) => void};
	readonly width: number;
};

export function Footer({hints, message, filter, width}: FooterProps) {
	const theme = useTheme();
	return (
		<Box width={width} height={1} overflow="hidden">
			{filter ? (
				<Box flexShrink={0} marginRight={1}>
					<Text bold color={theme.accent}>{` filter ${filter.pane}: `}</Text>
					<TextField value={filter.text} onChange={filter.onChange} />
				</Box>
			) : null}
			<Text wrap="truncate-end">
				{message ? (
					<Text bold color={message.tone === 'error' ? theme.failure : theme.success}>
						{` ${message.tone === 'error' ? '✗' : '✓'} ${message.text} `}
					</Text>
				) : null}
				{hints.map(hint => (
					<Text key={hint.keys + hint.label}>
						{' '}
						<Text bold inverse>{` ${hint.keys} `}</Text>
						{` ${hint.label}`}
					</Text>
				))}
			</Text>
		</Box>
	);
}
