import {Text, useInput} from 'ink';
import {useCallback, useRef, useState} from 'react';

type TextFieldProps = {
	readonly value: string;
	readonly placeholder?: string;
	readonly focus?: boolean;
	readonly onChange: (value: string) => void;
};

/**
 * A one-line text field, drawn as ink-text-input draws it. Its key handler is
 * subscribed once and reads the value, cursor and focus of the latest render
 * (or of the key just before) from a ref. ink-text-input's handler is a new
 * closure each render, subscribed again in an effect: keys that arrive
 * together, as keys typed while a busy machine was away do, all met the value
 * of the render before them, so all but the last were lost, and a key after
 * Tab went to the field that had just lost the focus.
 */
export function TextField({value, placeholder = '', focus = true, onChange}: TextFieldProps) {
	const [, redraw] = useState(0);
	const latest = useRef({value, focus, onChange, cursor: value.length});
	const field = latest.current;
	field.value = value;
	field.focus = focus;
	field.onChange = onChange;
	field.cursor = Math.min(field.cursor, value.length);

	useInput(useCallback((input, key) => {
		const current = latest.current;
		if (!current.focus || key.upArrow || key.downArrow || key.tab || key.return || (key.ctrl && input === 'c')) return;
		let text = current.value;
		let {cursor} = current;
		if (key.leftArrow) {
			cursor = Math.max(0, cursor - 1);
		} else if (key.rightArrow) {
			cursor = Math.min(text.length, cursor + 1);
		} else if (key.backspace || key.delete) {
			if (cursor > 0) {
				text = text.slice(0, cursor - 1) + text.slice(cursor);
				cursor--;
			}
		} else {
			text = text.slice(0, cursor) + input + text.slice(cursor);
			cursor += input.length;
		}

		current.cursor = cursor;
		if (text === current.value) {
			redraw(count => count + 1);
			return;
		}

		// The next key, should it come before the next render, edits this text.
		current.value = text;
		current.onChange(text);
	}, []));

	if (!focus) return <Text>{value.length > 0 ? value : placeholder && <Text color="grey">{placeholder}</Text>}</Text>;
	if (value.length === 0) {
		return placeholder
			? <Text><Text inverse>{placeholder[0]}</Text><Text color="grey">{placeholder.slice(1)}</Text></Text>
			: <Text inverse> </Text>;
	}

	const cursor = field.cursor;
	return (
		<Text>
			{value.slice(0, cursor)}
			<Text inverse>{cursor < value.length ? value[cursor] : ' '}</Text>
			{value.slice(cursor + 1)}
		</Text>
	);
}
