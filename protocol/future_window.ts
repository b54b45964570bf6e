/**
 * Audio that has not finished playing, oldest first: what is kept for a listener, an encoder
 * or a worker that starts late. One rule decides what goes: an item whose end has passed is
 * of no use to anyone. The coordinator's timeline never runs more than 5 s ahead, so the
 * window holds at most that much.
 */
export interface Timed {
  /** Server time (µs) at which the item's last sample has played. */
  readonly endUs: number;
}

export class FutureWindow<T extends Timed> {
  #items: T[] = [];

  /** Appends; items come in time order. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The items that have not ended by `nowUs`, oldest first; the rest are dropped. */
  at(nowUs: number): readonly T[] {
    let played = 0;
    while (played < this.#items.length && this.#items[played].endUs <= nowUs) played++;
    if (played) this.#items = this.#items.slice(played);
    return this.#items;
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.#items.at(-1);
  }

  clear(): void {
    this.#items = [];
  }
}
