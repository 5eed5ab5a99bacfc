import {Text} from 'ink';
import {defaultCancelGraceMs} from '../../core/scheduler.js';
import type {ConfirmRequest} from '../state/ui-state.js';
import {useTheme} from '../theme.js';
import {Modal} from './modal.js';

type ConfirmDialogProps = {
	readonly request: ConfirmRequest;
	readonly areaWidth: number;
	readonly areaHeight: number;
};

export function ConfirmDialog({request, areaWidth, areaHeight}: ConfirmDialogProps) {
	const theme = useTheme();
	const {title, lines, choices} = describe(request);
	const width = Math.min(64, areaWidth);
	// Border and padding take four columns; long lines wrap.
	const textRows = lines.reduce((sum, line) => sum + Math.ceil(line.length / (width - 4)), 0);
	return (
		<Modal title={title} width={width} height={textRows + 5} areaWidth={areaWidth} areaHeight={areaHeight}>
			{lines.map(line => (
				<Text key={line} wrap="wrap">
					{line}
				</Text>
			))}
			<Text> </Text>
			<Text bold color={theme.warning} wrap="truncate-end">
				{choices}
			</Text>
		</Modal>
	);
}

function describe(request: ConfirmRequest): {title: string; lines: string[]; choices: string} {
	switch (request.kind) {
		case 'quit': {
			const running = request.runningJobs === 1 ? '1 running job keeps' : `${request.runningJobs} running jobs keep`;
			if (request.quitting === 'leaves') {
				return {
					title: 'Quit this screen?',
					lines: [request.schedulerGone ? 'The scheduler is gone; `jobdeck ui` shows the next one started on this data dir.' : 'The scheduler keeps running; `jobdeck ui` shows it again.'],
					choices: '[y] quit    [n] stay',
				};
			}

			if (request.quitting === 'offers-detach') {
				return {
					title: 'Quit jobdeck?',
					lines: [
						'[b] keeps the scheduler running in the background: it goes on handing out jobs, and `jobdeck ui` shows it again.',
						request.runningJobs === 0 ? '[y] stops it. No job is running.' : `[y] stops it; ${running} running, to be re-adopted at the next \`jobdeck start\`.`,
					],
					choices: '[b] background    [y] stop    [n] stay',
				};
			}

			return {
				title: 'Quit jobdeck?',
				lines:
					request.runningJobs === 0
						? ['The scheduler stops. No job is running.']
						: [`The scheduler stops; ${running} running, to be re-adopted at the next \`jobdeck start\`.`],
				choices: '[y] quit    [n] stay',
			};
		}

		case 'stop-scheduler': {
			const running = request.runningJobs === 1 ? '1 running job keeps' : `${request.runningJobs} running jobs keep`;
			return {
				title: 'Stop the scheduler?',
				lines: [`No new job starts; ${running} running, to be re-adopted at the next \`jobdeck start\`.`],
				choices: '[y] stop it    [n] keep it',
			};
		}

		case 'cancel-job': {
			return {
				title: `Cancel job #${request.jobId}?`,
				lines: [`It gets SIGTERM on ${request.worker}, and SIGKILL if it is still there ${defaultCancelGraceMs / 1000} s later.`],
				choices: '[y] cancel it    [n] keep it running',
			};
		}

		case 'remove-worker': {
			const ids = request.runningJobIds.map(id => `#${id}`).join(', ');
			return request.runningJobIds.length > 0
				? {
						title: `Remove worker ${request.name}?`,
						lines: [`It is running ${ids}.`],
						choices: '[w] wait for its jobs    [k] kill them    [Esc] cancel',
					}
				: {title: `Remove worker ${request.name}?`, lines: ['It is idle.'], choices: '[y] remove    [n] keep'};
		}
	}
}
