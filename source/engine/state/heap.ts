// A binary heap: the item that comes first by `before` is at the top. The
// queue's ready jobs, its delayed retries and the free workers each keep one,
// so that the next of them is found without scanning all of them.

import {present} from '../../core/present.js';

export class Heap<T> {
	readonly #items: T[] = [];
	readonly #before: (left: T, right: T) => boolean;

	constructor(before: (left: T, right: T) => boolean, items: Iterable<T> = []) {
		this.#before = before;
		for (const item of items) this.push(item);
	}

	get size(): number {
		return this.#items.length;
	}

	peek(): T | undefined {
		return this.#items[0];
	}

	* [Symbol.iterator](): IterableIterator<T> {
		yield * this.#items;
	}

	push(item: T): void {
		const items = this.#items;
		let index = items.push(item) - 1;
		while (index > 0) {
			const parent = (index - 1) >> 1;
			const parentItem = present(items[parent], 'heap parent');
			if (!this.#before(item, parentItem)) break;
			items[index] = parentItem;
			index = parent;
		}

		items[index] = item;
	}

	pop(): T | undefined {
		const items = this.#items;
		const top = items[0];
		const last = items.pop();
		if (last === undefined || items.length === 0) return top;
		let index = 0;
		for (;;) {
			let child = (index * 2) + 1;
			if (child >= items.length) break;
			if (child + 1 < items.length && this.#before(present(items[child + 1], 'heap right child'), present(items[child], 'heap left child'))) child++;
			const childItem = present(items[child], 'heap child');
			if (!this.#before(childItem, last)) break;
			items[index] = childItem;
			index = child;
		}

		items[index] = last;
		return top;
	}
}
