import {setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';

// Memory an oversized client held (an unfinished request of tens of MB) is
// dropped when it leaves, but V8 frees a buffer only when it collects
// garbage, and an idle scheduler allocates nothing that would make it:
// measured, 601 MiB of dropped buffers were still held 10 s after ten 60 MB
// clients closed. So once a client that held much leaves, one collection is
// asked for (at most one a second): the buffers go, and with them the memory
// (line-reader.ts keeps a large unfinished line in a mapping of its own, which
// malloc hands back to the system when freed).

/** A client that held at least this much asks for a collection when it leaves. */
export const collectAfterBytes = 8 * 1024 * 1024;
const minimumGapMs = 1000;

let collect: (() => void) | undefined | null;
let scheduled = false;
let lastAt = 0;

/** Node's `gc`, without --expose-gc on the command line; null where it cannot be had. */
function collector(): (() => void) | null {
	if (collect !== undefined) return collect;
	try {
		setFlagsFromString('--expose-gc');
		collect = runInNewContext('gc') as () => void;
	} catch {
		collect = null;
	}

	return collect;
}

/** `heldBytes` were just dropped: collects garbage soon when that was much. */
export function releasedMemory(heldBytes: number): void {
	if (heldBytes < collectAfterBytes || scheduled) return;
	scheduled = true;
	const wait = Math.max(0, lastAt + minimumGapMs - Date.now());
	// After the socket's own close handlers, which let go of its last chunks.
	setTimeout(() => {
		scheduled = false;
		lastAt = Date.now();
		collector()?.();
	}, wait).unref();
}
