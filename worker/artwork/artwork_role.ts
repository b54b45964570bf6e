/**
 * The artwork@v1 role on one worker: the covers it holds, which one shows from when (the
 * coordinator announces each track ahead, with the server time it is heard), and the artwork
 * streams of its clients, each told of every change as it is announced.
 */
import type { Clock } from "../../protocol/clock.ts";
import type { Logger } from "../../protocol/log.ts";
import type { NowPlaying } from "../../protocol/now_playing.ts";
import { artworkKeyOf } from "../../protocol/artwork_path.ts";
import { ArtworkImages } from "./artwork_images.ts";

/** From `atUs` on, cover `key` shows (none: the channel is cleared). */
export interface CoverChange {
  key?: string;
  atUs: number;
}

/** What a client's artwork stream is told. */
export interface CoverListener {
  show(change: CoverChange): void;
}

export class ArtworkRole {
  readonly images = new ArtworkImages();
  #changes: CoverChange[] = [];
  #listeners = new Set<CoverListener>();

  constructor(readonly clock: Clock, readonly log: Logger) {}

  onImage(key: string, mime: string, bytes: Uint8Array): void {
    this.images.add(key, mime, bytes);
  }

  /** A new now-playing: a different cover (or none) from its `atUs` on. */
  onNowPlaying(nowPlaying: NowPlaying): void {
    const key = artworkKeyOf(nowPlaying.artworkPath);
    const nowUs = this.clock.nowUs();
    // A change announced for an earlier time than one already planned replaces that one.
    const before = this.#changes.length;
    this.#changes = this.#changes.filter((c) => c.atUs < nowPlaying.atUs);
    const replaced = this.#changes.length < before;
    const last = this.#changes.at(-1);
    if (last && last.key === key && !replaced) return; // the same cover goes on: nothing to say
    const change = { key, atUs: nowPlaying.atUs };
    if (!last || last.key !== key) this.#changes.push(change);
    // Only the change shown now and those still to come are of use.
    const current = this.#changes.findLastIndex((c) => c.atUs <= nowUs);
    if (current > 0) this.#changes = this.#changes.slice(current);
    for (const listener of this.#listeners) listener.show(change);
  }

  /**
   * What a stream starting now is sent: the cover shown now (with its own, past, time: it
   * is due), then those planned, in their order (the spec's late join: the current first).
   */
  plan(nowUs: number): CoverChange[] {
    const current = this.#changes.findLastIndex((c) => c.atUs <= nowUs);
    return this.#changes.slice(Math.max(0, current));
  }

  listen(listener: CoverListener): void {
    this.#listeners.add(listener);
  }

  unlisten(listener: CoverListener): void {
    this.#listeners.delete(listener);
  }
}
