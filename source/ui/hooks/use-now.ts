import {useEffect, useState} from 'react';

/** The time, updated every `intervalMs`: waited and elapsed times tick with it. One clock for the whole screen. */
export function useNow(intervalMs = 1000): number {
	const [now, setNow] = useState(Date.now);
	useEffect(() => {
		const timer = setInterval(() => {
			setNow(Date.now());
		}, intervalMs);
		return () => {
			clearInterval(timer);
		};
	}, [intervalMs]);
	return now;
}
