/**
 * Which timeline message an edge takes next. The origin numbers its messages within one run
 * (its timeline id); the edge hears them live, from the stream when it catches up, and again
 * when the origin re-publishes after NATS came back, so it takes each number once, in order.
 * A message past the next number means some went missing: the edge catches up from the
 * stream before taking it.
 */
export type Verdict =
  /** The next one (or the first): take it. */
  | "take"
  /** Already taken (a re-publish, or the stream's copy of a live message). */
  | "seen"
  /** Some before it are missing: catch up first. */
  | "gap"
  /** Another run of the origin: it restarted. */
  | "new-timeline";

export class TimelineOrder {
  timeline?: string;
  /** The number taken last; undefined: the next message of this run is taken, whatever its number. */
  lastSeq?: number;

  /** Starts over on `timeline`: its first message heard is taken. */
  reset(timeline: string): void {
    this.timeline = timeline;
    this.lastSeq = undefined;
  }

  judge(timeline: string, seq: number): Verdict {
    if (timeline !== this.timeline) return "new-timeline";
    if (this.lastSeq === undefined || seq === this.lastSeq + 1) return "take";
    return seq <= this.lastSeq ? "seen" : "gap";
  }

  /** `seq` was taken (a gap the stream could not fill is passed over by taking what follows). */
  took(seq: number): void {
    this.lastSeq = seq;
  }
}
