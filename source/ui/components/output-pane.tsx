import {Box, Text} from 'ink';
import type {LogView} from '../hooks/use-log-tail.js';
import type {OutputScroll, OutputTarget} from '../state/ui-state.js';
import {useTheme} from '../theme.js';
import {PaneFrame} from './pane-frame.js';

type OutputPaneProps = {
	readonly target?: OutputTarget;
	/** How the run stands, such as "running 1m02s" or "✗ exit 3 after 4s". */
	readonly status: string;
	readonly failed: boolean;
	readonly view: LogView;
	readonly scroll: OutputScroll;
	readonly filter: string;
	readonly focused: boolean;
	readonly width: number;
	readonly height: number;
};

export function OutputPane({target, status, failed, view, scroll, filter, focused, width, height}: OutputPaneProps) {
	const theme = useTheme();
	const rows = Math.max(1, height - 2);
	const visible = visibleLines(view, scroll, filter, rows);
	const title = target ? `5 Output #${target.jobId} ${target.worker}` : '5 Output';
	const note = [status, filter && `/${filter}`, scroll.follow ? '' : `paused at line ${scroll.bottomLine}, f follows`].filter(Boolean).join(' · ');
	return (
		<PaneFrame title={title} note={target ? note : undefined} focused={focused} width={width} height={height}>
			{target ? null : <Text dimColor> Select a running or finished job: its output shows here.</Text>}
			{target && view.lines.length === 0 ? <Text dimColor> (no output yet)</Text> : null}
			<Box flexDirection="column" paddingLeft={1}>
				{visible.map((line, index) => (
					<Text key={index} wrap="truncate-end" color={failed && index === visible.length - 1 ? theme.failure : undefined}>
						{line || ' '}
					</Text>
				))}
			</Box>
		</PaneFrame>
	);
}

function visibleLines(view: LogView, scroll: OutputScroll, filter: string, rows: number): readonly string[] {
	if (filter) {
		const needle = filter.toLowerCase();
		return view.lines.filter(line => line.toLowerCase().includes(needle)).slice(-rows);
	}

	const bottom = scroll.follow ? view.lines.length : Math.min(view.lines.length, Math.max(rows, scroll.bottomLine - view.firstLine));
	return view.lines.slice(Math.max(0, bottom - rows), bottom);
}
