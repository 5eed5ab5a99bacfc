import {Box, Text} from 'ink';
import {TextField} from './text-field.js';
import {formFields, type FormState} from '../state/forms.js';
import {useTheme} from '../theme.js';
import {Modal} from './modal.js';

export type FormDialogProps = {
	readonly form: FormState;
	readonly onChange: (name: string, value: string) => void;
	readonly areaWidth: number;
	readonly areaHeight: number;
};

type Props = FormDialogProps & {readonly title: string; readonly intro: string};

/** A form of labelled fields; keys other than typing are the keymap's (Enter adds, Tab moves, Esc cancels). */
export function FormDialog({form, title, intro, onChange, areaWidth, areaHeight}: Props) {
	const theme = useTheme();
	const fields = formFields[form.kind];
	return (
		<Modal title={title} width={76} height={fields.length + 8} areaWidth={areaWidth} areaHeight={areaHeight}>
			<Text dimColor wrap="truncate-end">
				{intro}
			</Text>
			{fields.map((field, index) => {
				const focused = index === form.focus;
				return (
					<Box key={field.name} height={1} overflow="hidden">
						<Text bold={focused} color={focused ? theme.accent : undefined}>
							{`${focused ? '›' : ' '} ${field.label}`.padEnd(17)}
						</Text>
						{field.kind === 'toggle' ? (
							<Text inverse={focused}>{form.toggles[field.name] ? '[x] yes' : '[ ] no'}</Text>
						) : (
							<TextField
								value={form.values[field.name] ?? ''}
								placeholder={focused ? field.placeholder : ''}
								focus={focused && !form.submitting}
								onChange={value => {
									onChange(field.name, value);
								}}
							/>
						)}
					</Box>
				);
			})}
			<Text> </Text>
			{form.error ? (
				<Text bold color={theme.failure} wrap="truncate-end">{`✗ ${form.error}`}</Text>
			) : (
				<Text dimColor wrap="truncate-end">
					{form.submitting ? 'working…' : 'Enter adds · Tab/↑↓ moves · Space toggles · Esc cancels'}
				</Text>
			)}
		</Modal>
	);
}
