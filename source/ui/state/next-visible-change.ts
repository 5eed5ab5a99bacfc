// The screen redraws when what it shows changes. Times change on their own:
// rather than redrawing every second whether or not anything shows one (a
// full frame with 100,000 jobs queued), the screen asks when the soonest
// shown time next reads differently, and sleeps until then.

/** A time on screen: one counting up from `since` (waited, elapsed), one counting down to `until` (a retry's delay, shown while it lasts), or text that changes `at` a moment (a message going away). */
export type ShownTime = {readonly since: number} | {readonly until: number} | {readonly at: number};

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** How often formatDuration's text changes at this length: 9s and 3m04s every second, 2h05m every minute, 3d04h every hour. */
function unitOf(milliseconds: number): number {
	if (milliseconds < hour) return second;
	if (milliseconds < 24 * hour) return minute;
	return hour;
}

/** When formatDuration(now - since) next reads differently. */
function nextCountUpChange(now: number, since: number): number {
	const elapsed = now - since;
	if (elapsed < second) return since + second;
	const unit = unitOf(elapsed);
	return since + (Math.floor(elapsed / unit) + 1) * unit;
}

/** When formatDuration(until - now) next reads differently, or goes (at `until`). */
function nextCountDownChange(now: number, until: number): number | undefined {
	const left = until - now;
	if (left <= 0) return undefined;
	const unit = unitOf(left);
	// The text changes when what is left drops below the largest multiple of the unit under it.
	return until - (Math.ceil(left / unit) - 1) * unit;
}

function nextChangeOf(now: number, time: ShownTime): number | undefined {
	if ('since' in time) return nextCountUpChange(now, time.since);
	if ('until' in time) return nextCountDownChange(now, time.until);
	return time.at > now ? time.at : undefined;
}

/**
 * The moment the soonest of these shown times next reads differently, rounded
 * up to a whole second so that times changing at different fractions of a
 * second share one redraw (each is then at most a second late, as with a
 * clock ticking every second); undefined when none ever will.
 */
export function nextVisibleChange(now: number, times: Iterable<ShownTime>): number | undefined {
	let soonest: number | undefined;
	for (const time of times) {
		const at = nextChangeOf(now, time);
		if (at !== undefined && (soonest === undefined || at < soonest)) soonest = at;
	}

	return soonest === undefined ? undefined : Math.ceil(soonest / second) * second;
}
