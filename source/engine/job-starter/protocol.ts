// What the scheduler and its job starter process say to each other: one JSON
// object a line, over the starter's stdin (requests) and stdout (replies).

/** Start one job; `id` only pairs the replies with it. */
export type StartRequest = {
	id: number;
	script: string;
	args: string[];
	cwd: string;
	/** Added on top of the scheduler's own environment. */
	env: Record<string, string>;
	logFile: string;
	exitFile: string;
};

export type StarterReply =
	| {type: 'spawned'; id: number; pid: number; pidStartTime: number | undefined}
	/** Nothing runs: the log could not be opened (`error`), or the wrapper could not be spawned (the reason is in the log). */
	| {type: 'not-started'; id: number; error?: string}
	/** The wrapper ended: the job's status as the wrapper passed it on, or the signal that killed the wrapper itself. */
	| {type: 'exited'; id: number; exitCode: number | undefined; signal: string | undefined};
