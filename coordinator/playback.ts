/**
 * Runs the source into the timeline while anyone listens: starts with the first listener,
 * stops (no decoding, no CPU) after the last leaves. Files loop without a gap because the
 * timeline's sample count runs on across the restart; live sources reconnect; errors are
 * retried after 2, 4, 8, 16, then every 30 s. A source that goes silent (a stream whose
 * server stops sending but keeps the connection) is given up on after 15 s and retried; the
 * delays only start over once a source has played for a while, so a stream that drops every
 * few seconds is not hammered.
 */
import { Backoff } from "../protocol/backoff.ts";
import type { Logger } from "../protocol/log.ts";
import type { AudioBlock } from "../protocol/pcm.ts";
import type { Source } from "./sources/source.ts";
import { sleepMs } from "../protocol/sleep.ts";
import type { Timeline } from "./timeline.ts";

export const RETRY_DELAYS_MS = [2_000, 4_000, 8_000, 16_000, 30_000];
/** No audio from the source for this long: it is stuck; drop it and retry. */
export const SOURCE_STALL_MS = 15_000;
/** A source that played this long is healthy again: the next failure retries quickly. */
export const HEALTHY_AFTER_MS = 10_000;

export interface PlaybackOptions {
  source: Source;
  timeline: Timeline;
  log: Logger;
  /**
   * Called after playback stopped, so workers drop what they hold; `cut` when it starts
   * again at once (the stream goes on).
   */
  onStopped: (cut: boolean) => void;
  /**
   * Asked when a pass of a non-live source ended by itself: true ends playback (nothing
   * follows) rather than looping. Default: it loops.
   */
  finished?: () => boolean;
  /** After `finished` said true: called with the server time the last sample is heard. */
  onFinished?: (endUs: number, signal: AbortSignal) => Promise<void>;
  /** Default RETRY_DELAYS_MS; the last one repeats. */
  retryDelaysMs?: number[];
  /** Default SOURCE_STALL_MS. */
  stallMs?: number;
  /** Default HEALTHY_AFTER_MS. */
  healthyAfterMs?: number;
}

export class Playback {
  #options: PlaybackOptions;
  #run?: { controller: AbortController; done: Promise<void> };
  #wanted = false;
  #paused = false;
  #changes: Promise<void> = Promise.resolve();

  constructor(options: PlaybackOptions) {
    this.#options = options;
  }

  get active(): boolean {
    return this.#run !== undefined;
  }

  /**
   * Plays while `wanted` is true. Changes apply in order, so a listener arriving while
   * the previous stop is still winding down never sees its timeline cleared afterwards.
   */
  setWanted(wanted: boolean): Promise<void> {
    this.#wanted = wanted;
    return this.#change(() => this.#apply());
  }

  /** Paused (a controller's pause or stop), playback does not run even with listeners. */
  setPaused(paused: boolean): Promise<void> {
    this.#paused = paused;
    return this.#change(() => this.#apply());
  }

  /**
   * Drops the audio already sent and starts over from where the source now is (next,
   * previous): the timeline restarts at a fresh anchor.
   */
  cut(): Promise<void> {
    return this.#change(async () => {
      if (!this.#run) return;
      await this.#stop(true);
      await this.#apply();
    });
  }

  #change(step: () => Promise<void>): Promise<void> {
    this.#changes = this.#changes.then(step).catch((error) => {
      this.#options.log.error(`playback could not change state: ${error}`);
    });
    return this.#changes;
  }

  async #stop(cut = false): Promise<void> {
    const run = this.#run!;
    this.#run = undefined;
    run.controller.abort();
    await run.done;
    this.#options.timeline.restart();
    this.#options.onStopped(cut);
  }

  async #apply(): Promise<void> {
    const wanted = this.#wanted && !this.#paused;
    if (wanted && !this.#run) {
      const controller = new AbortController();
      this.#options.log.debug(`playback starts: ${this.#options.source.label}`);
      const done = this.#loop(controller.signal).catch((error) => {
        this.#options.log.error(`playback stopped by an unexpected error: ${error}`);
      });
      this.#run = { controller, done };
    } else if (!wanted && this.#run) {
      await this.#stop();
      this.#options.log.debug(`playback stopped: ${this.#paused ? "paused" : "nobody listens"}`);
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const { source, log } = this.#options;
    const backoff = new Backoff(this.#options.retryDelaysMs ?? RETRY_DELAYS_MS);
    const healthyAfterMs = this.#options.healthyAfterMs ?? HEALTHY_AFTER_MS;
    while (!signal.aborted) {
      let firstAudio: number | undefined;
      let problem: string | undefined;
      try {
        const produced = await this.#playOnce(signal, () => {
          firstAudio = performance.now();
          if (backoff.failures > 0) log.info(`${source.label} plays again`);
        });
        if (!produced) problem = "it ended without any audio";
        else if (source.live) problem = "the stream ended";
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (signal.aborted) break;
      // However this pass ended, one that played a while starts the delays over.
      if (firstAudio !== undefined && performance.now() - firstAudio >= healthyAfterMs) {
        backoff.reset();
      }
      if (problem === undefined && this.#options.finished?.()) {
        const endUs = await this.#options.timeline.flush(signal);
        if (!signal.aborted) await this.#options.onFinished?.(endUs, signal);
        return;
      }
      if (problem === undefined) {
        backoff.reset(); // a file played to its end: it loops
        continue;
      }
      const delayMs = backoff.next();
      log.warn(`Cannot play ${source.label}: ${problem}; retrying in ${delayMs / 1000} s`);
      await sleepMs(delayMs, signal);
    }
  }

  /**
   * One pass of the source into the timeline; true if it produced audio. A source that
   * gives nothing for `stallMs` is aborted with an error (pacing waits do not count).
   */
  async #playOnce(signal: AbortSignal, onFirstBlock: () => void): Promise<boolean> {
    const { source, timeline } = this.#options;
    const stallMs = this.#options.stallMs ?? SOURCE_STALL_MS;
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener("abort", stop, { once: true });
    const blocks = source.decode(attempt.signal)[Symbol.asyncIterator]();
    let produced = false;
    try {
      while (!signal.aborted) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`no audio for ${stallMs / 1000} s`));
            attempt.abort();
          }, stallMs);
        });
        let next: IteratorResult<AudioBlock>;
        try {
          next = await Promise.race([blocks.next(), stalled]);
        } finally {
          clearTimeout(timer);
        }
        if (next.done || signal.aborted) break;
        if (!produced) onFirstBlock();
        produced = true;
        await timeline.push(next.value, signal);
      }
      return produced;
    } finally {
      signal.removeEventListener("abort", stop);
      attempt.abort();
      // Not awaited: a decoder stuck in a read finishes its cleanup once the abort reaches it.
      blocks.return?.(undefined).catch(() => {});
    }
  }
}
