/** A Playback of `source` into a timeline on the system clock, quiet, for source tests. */
import { Playback, type PlaybackOptions } from "../../coordinator/playback.ts";
import type { Source } from "../../coordinator/sources/source.ts";
import { Timeline } from "../../coordinator/timeline.ts";
import { systemClock } from "../../protocol/clock.ts";
import { Logger } from "../../protocol/log.ts";

export function testPlayback(
  source: Source,
  options: Partial<Omit<PlaybackOptions, "source" | "timeline">> & { onChunk?: () => void } = {},
): Playback {
  const { onChunk = () => {}, ...rest } = options;
  return new Playback({
    source,
    timeline: new Timeline({ clock: systemClock, emit: onChunk }),
    log: new Logger("CRITICAL"),
    onStopped: () => {},
    ...rest,
  });
}
