import {Box, Text} from 'ink';
import {helpSections} from '../state/keymap.js';
import {useTheme} from '../theme.js';
import {Modal} from './modal.js';

type HelpOverlayProps = {
	readonly areaWidth: number;
	readonly areaHeight: number;
};

export function HelpOverlay({areaWidth, areaHeight}: HelpOverlayProps) {
	const theme = useTheme();
	const hints = helpSections.reduce((sum, section) => sum + section.hints.length, 0);
	// An 80x24 terminal has no room for the section titles: every key matters more.
	const titled = hints + helpSections.length + 4 <= areaHeight;
	const lines = hints + (titled ? helpSections.length : 0);
	return (
		<Modal title="Keys" width={64} height={lines + 4} areaWidth={areaWidth} areaHeight={areaHeight}>
			{helpSections.map(section => (
				<Box key={section.title} flexDirection="column">
					{titled ? (
						<Text bold color={theme.warning}>
							{section.title}
						</Text>
					) : null}
					{section.hints.map(hint => (
						<Text key={hint.keys} wrap="truncate-end">
							<Text bold>{`  ${hint.keys}`.padEnd(16)}</Text>
							{hint.label}
						</Text>
					))}
				</Box>
			))}
			<Text dimColor>Esc or ? closes · Esc in tmux: set -sg escape-time 10</Text>
		</Modal>
	);
}
