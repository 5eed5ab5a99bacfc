import {createContext, createElement, useContext, useEffect, useState, type ReactNode} from 'react';
import {useStdout} from 'ink';

// One resize listener for the whole screen, shared through context. Tests
// pass a fixed size instead: ink-testing-library's stdout has no rows.

export type TerminalSize = {readonly columns: number; readonly rows: number};

const fallbackSize: TerminalSize = {columns: 80, rows: 24};
const TerminalSizeContext = createContext<TerminalSize>(fallbackSize);

type TerminalSizeProviderProps = {
	/** A fixed size; without it the size follows stdout. */
	readonly size?: TerminalSize;
	readonly children: ReactNode;
};

export function TerminalSizeProvider({size, children}: TerminalSizeProviderProps) {
	const {stdout} = useStdout();
	const [measured, setMeasured] = useState<TerminalSize>(() => measure(stdout));
	useEffect(() => {
		if (size) return;
		const onResize = (): void => {
			setMeasured(measure(stdout));
		};

		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout, size]);
	return createElement(TerminalSizeContext.Provider, {value: size ?? measured}, children);
}

export function useTerminalSize(): TerminalSize {
	return useContext(TerminalSizeContext);
}

function measure(stdout: NodeJS.WriteStream): TerminalSize {
	return {columns: stdout.columns || fallbackSize.columns, rows: stdout.rows || fallbackSize.rows};
}
