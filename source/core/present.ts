/**
 * A value the code's own logic guarantees (an index inside its array, an id taken from the same map),
 * checked at run time instead of asserted to the type checker with `!`: were the logic ever wrong,
 * this says what was missing where `!` would let `undefined` travel on.
 */
export function present<T>(value: T | null | undefined, what: string): T {
	if (value === undefined || value === null) throw new Error(`internal error: ${what} is missing`);
	return value;
}
