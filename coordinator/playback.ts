/**
 * Runs the source into the timeline while anyone listens: starts with the first listener,
 * stops (no decoding, no CPU) after the last leaves. Files loop without a gap because the
 * timeline's sample count runs on across the restart; live sources reconnect; errors are
 * retried after 2, 4, 8, 16, then every 30 s.
 */
import type { Logger } from "../protocol/log.ts";
import type { Source } from "./sources/source.ts";
import { sleepMs } from "../protocol/sleep.ts";
import type { Timeline } from "./timeline.ts";

export const RETRY_DELAYS_MS = [2_000, 4_000, 8_000, 16_000, 30_000];

export interface PlaybackOptions {
  source: Source;
  timeline: Timeline;
  log: Logger;
  /** Called after playback stopped, so workers drop what they hold. */
  onStopped: () => void;
  /** Default RETRY_DELAYS_MS; the last one repeats. */
  retryDelaysMs?: number[];
}

export class Playback {
  #options: PlaybackOptions;
  #run?: { controller: AbortController; done: Promise<void> };
  #wanted = false;
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
    this.#changes = this.#changes.then(() => this.#apply()).catch((error) => {
      this.#options.log.error(`playback could not change state: ${error}`);
    });
    return this.#changes;
  }

  async #apply(): Promise<void> {
    if (this.#wanted && !this.#run) {
      const controller = new AbortController();
      this.#options.log.debug(`playback starts: ${this.#options.source.label}`);
      const done = this.#loop(controller.signal).catch((error) => {
        this.#options.log.error(`playback stopped by an unexpected error: ${error}`);
      });
      this.#run = { controller, done };
    } else if (!this.#wanted && this.#run) {
      const run = this.#run;
      this.#run = undefined;
      run.controller.abort();
      await run.done;
      this.#options.timeline.restart();
      this.#options.onStopped();
      this.#options.log.debug("playback stopped: nobody is listening");
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const { source, timeline, log } = this.#options;
    const delays = this.#options.retryDelaysMs ?? RETRY_DELAYS_MS;
    let failures = 0;
    while (!signal.aborted) {
      let produced = false;
      try {
        for await (const block of source.decode(signal)) {
          if (signal.aborted) break;
          if (!produced && failures > 0) log.info(`${source.label} plays again`);
          produced = true;
          failures = 0;
          await timeline.push(block, signal);
        }
        if (signal.aborted) break;
        if (!produced) throw new Error("it ended without any audio");
        if (source.live) log.warn(`${source.label} ended; reconnecting`);
      } catch (error) {
        if (signal.aborted) break;
        const delayMs = delays[Math.min(failures, delays.length - 1)];
        failures++;
        const reason = error instanceof Error ? error.message : String(error);
        log.warn(`Cannot play ${source.label}: ${reason}; retrying in ${delayMs / 1000} s`);
        await sleepMs(delayMs, signal);
      }
    }
  }
}
