import {useCallback, useRef} from 'react';
import {useInput} from 'ink';
import {commandForKey, type Command, type KeyContext} from '../state/keymap.js';

/**
 * The one input handler of the screen. It is always active, which keeps the
 * terminal in raw mode (typed keys never echo into the layout), and turns
 * each key into a command according to the current mode. Text fields read
 * their own keys; in those modes the keymap answers only to Enter, Esc, Tab
 * and Ctrl-C.
 */
export function useKeymap(context: KeyContext, onCommand: (command: Command) => void): void {
	const latest = useRef({context, onCommand});
	latest.current = {context, onCommand};
	useInput(
		useCallback((input, key) => {
			const command = commandForKey(latest.current.context, input, key);
			if (command) latest.current.onCommand(command);
		}, []),
	);
}
