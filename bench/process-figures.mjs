// Shared by the benchmarks: what /proc says of a process (CPU time, memory,
// bytes read), and the idle figures built on it.
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';

export const sleep = ms => new Promise(resolveSleep => {
	setTimeout(resolveSleep, ms);
});

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}));

/** A `Name:  value …` line of /proc/PID/status or /proc/PID/io, as a number. */
function procField(pid, file, name) {
	const line = readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\n').find(entry => entry.startsWith(`${name}:`));
	return Number(line.split(/\s+/)[1]);
}

/** User and system CPU time the process has used so far. */
export function cpuSeconds(pid) {
	const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

export const rssMegabytes = pid => procField(pid, 'status', 'VmRSS') / 1024;

/** Bytes the process has read so far, from files and pipes alike. */
export const bytesReadBy = pid => procField(pid, 'io', 'rchar');

/** The share of a core the process uses over `seconds`, and its memory then. */
export async function idleFigures(pid, seconds) {
	const before = cpuSeconds(pid);
	await sleep(seconds * 1000);
	return {cpuPercent: (cpuSeconds(pid) - before) / seconds * 100, rss: rssMegabytes(pid)};
}
