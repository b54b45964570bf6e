/**
 * What the party plays, as this worker's clients are told it: the coordinator announces
 * each state ahead with the server time it is heard (a track change 5 s before its first
 * sample plays), and clients hear of it at that time, not when it was decoded. A client
 * that joins gets the state heard now.
 */
import type { Clock } from "../protocol/clock.ts";
import type { NowPlaying } from "../protocol/now_playing.ts";

/** Until the coordinator says otherwise: nothing known, nothing to control. */
const NOTHING: NowPlaying = {
  atUs: 0,
  track: {},
  positionMs: 0,
  playback: "playing",
  repeat: "off",
  shuffle: false,
  supported: [],
};

export class PartyState {
  #clock: Clock;
  #onHeard: (nowPlaying: NowPlaying) => void;
  #current: NowPlaying = NOTHING;
  /** Announced, not heard yet, in time order. */
  #pending: NowPlaying[] = [];
  #timer?: ReturnType<typeof setTimeout>;

  constructor(clock: Clock, onHeard: (nowPlaying: NowPlaying) => void) {
    this.#clock = clock;
    this.#onHeard = onHeard;
  }

  /** The state heard now. */
  get current(): NowPlaying {
    return this.#current;
  }

  /**
   * A new announcement. It replaces every one still pending for its time or later: after
   * `next`, the track change announced for 3 s from now will not be heard.
   */
  announce(nowPlaying: NowPlaying): void {
    this.#pending = this.#pending.filter((p) => p.atUs < nowPlaying.atUs);
    this.#pending.push(nowPlaying);
    this.#schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#pending = [];
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const nowUs = this.#clock.nowUs();
    while (this.#pending.length && this.#pending[0].atUs <= nowUs) {
      this.#current = this.#pending.shift()!;
      this.#onHeard(this.#current);
    }
    const next = this.#pending[0];
    if (!next) return;
    // Timers run early or late by a millisecond or so; the loop above takes what is due.
    this.#timer = setTimeout(() => this.#schedule(), Math.max(1, (next.atUs - nowUs) / 1000));
  }
}

/** The spec's metadata object for `nowPlaying`; a field the source lacks is null. */
export function metadataOf(nowPlaying: NowPlaying, artworkUrl: string | null) {
  const { track } = nowPlaying;
  return {
    // The time the progress below is true at: clients advance it from there.
    timestamp: Math.round(nowPlaying.atUs),
    title: track.title ?? null,
    artist: track.artist ?? null,
    album_artist: track.album_artist ?? null,
    album: track.album ?? null,
    artwork_url: artworkUrl,
    year: track.year ?? null,
    track: track.track ?? null,
    progress: {
      track_progress: Math.max(0, Math.round(nowPlaying.positionMs)),
      track_duration: Math.round(track.durationMs ?? 0),
      playback_speed: nowPlaying.playback === "playing" ? 1000 : 0,
    },
    repeat: nowPlaying.repeat,
    shuffle: nowPlaying.shuffle,
  };
}
