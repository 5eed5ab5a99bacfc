export type ListWindow = {readonly from: number; readonly to: number};

/** The smallest scroll from `previousFrom` that shows `cursor`, never past either end of the list. */
export function scrollWindow(previousFrom: number, cursor: number, length: number, height: number): ListWindow {
	const rows = Math.max(1, height);
	let from = previousFrom;
	if (cursor < from) from = cursor;
	if (cursor >= from + rows) from = cursor - rows + 1;
	from = Math.max(0, Math.min(from, length - rows));
	return {from, to: Math.min(length, from + rows)};
}
