/**
 * The order tracks play in: the list, shuffled or not, and what follows a track under each
 * repeat mode. Pure bookkeeping; the party player moves through it.
 */
import type { RepeatMode } from "../../protocol/now_playing.ts";

export class Queue {
  /** Track indexes in playing order. */
  order: number[];
  repeat: RepeatMode;
  shuffled = false;
  #random: () => number;

  constructor(count: number, options: { repeat: RepeatMode; random?: () => number }) {
    this.order = Array.from({ length: count }, (_, i) => i);
    this.repeat = options.repeat;
    this.#random = options.random ?? Math.random;
  }

  get count(): number {
    return this.order.length;
  }

  /** The track after `index` when it ends by itself; undefined at the end (repeat off). */
  after(index: number): number | undefined {
    if (this.repeat === "one") return index;
    const pos = this.order.indexOf(index) + 1;
    if (pos < this.count) return this.order[pos];
    return this.repeat === "all" ? this.order[0] : undefined;
  }

  /** `next` from a controller: the following track, wrapping round. */
  next(index: number): number {
    return this.order[(this.order.indexOf(index) + 1) % this.count];
  }

  previous(index: number): number {
    return this.order[(this.order.indexOf(index) - 1 + this.count) % this.count];
  }

  get first(): number {
    return this.order[0];
  }

  /** Shuffles the tracks after `current`, which stays where the party is. */
  shuffle(current?: number): void {
    const rest = this.order.filter((i) => i !== current);
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [rest[i], rest[j]] = [rest[j], rest[i]];
    }
    this.order = current === undefined ? rest : [current, ...rest];
    this.shuffled = true;
  }

  unshuffle(): void {
    this.order = this.order.map((_, i) => i);
    this.shuffled = false;
  }
}
