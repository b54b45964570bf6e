/**
 * The party's player: the track list, where it is, and what a controller may do to it.
 * It is the Source its Playback decodes (track after track into one timeline, so joints
 * are gapless) and it tells the workers what is heard, announced for the server time at
 * which it is heard. Commands from any worker act on this one player, for everyone.
 */
import type { Clock } from "../protocol/clock.ts";
import type { Logger } from "../protocol/log.ts";
import type {
  NowPlaying,
  PartyCommand,
  PlaybackState,
  TrackInfo,
} from "../protocol/now_playing.ts";
import { type AudioBlock, bytesPerFrame, SAMPLE_RATE } from "../protocol/pcm.ts";
import type { TrackTags } from "../protocol/tags.ts";
import { sleepMs } from "../protocol/sleep.ts";
import { Playback } from "./playback.ts";
import { Queue } from "./playlist/queue.ts";
import { listedInfo, probeTrackInfo } from "./playlist/track_info.ts";
import type { Track } from "./playlist/tracks.ts";
import { createSource, type Source } from "./sources/source.ts";
import type { Timeline } from "./timeline.ts";

/** `previous` this far into a track starts it again, as players do; earlier, it goes back. */
const RESTART_TRACK_AFTER_FRAMES = 3 * SAMPLE_RATE;

export interface PartyOptions {
  tracks: Track[];
  /** Decode with ffmpeg (and read tags with ffprobe). */
  useFfmpeg: boolean;
  timeline: Timeline;
  clock: Clock;
  log: Logger;
  /** Shuffled from the start; default false. */
  shuffle?: boolean;
  /** Play the list once, then `ended` resolves; default false (it loops). */
  once?: boolean;
  /** Every change of what is heard or how it may be controlled, in order. */
  announce: (nowPlaying: NowPlaying) => void;
  /** Adds the track's cover (its file's path, none for a stream); default none. */
  withArtwork?: (path: string | undefined, nowPlaying: NowPlaying) => Promise<NowPlaying>;
  /** Playback stopped: workers drop the audio they hold; `cut`: it goes on at once. */
  onStopped: (cut: boolean) => void;
}

interface Position {
  index: number;
  frame: number;
}

export class Party implements Source {
  readonly label: string;
  readonly live: boolean;
  readonly playback: Playback;
  #options: PartyOptions;
  #tracks: Track[];
  #queue: Queue;
  #infos = new Map<number, TrackInfo>();
  #state: PlaybackState = "playing";
  /** Where decoding is (or resumes): up to 5 s ahead of what is heard. */
  #cursor: Position = { index: 0, frame: 0 };
  /** Track starts with the server time each is heard, oldest first. */
  #heard: (Position & { atUs: number })[] = [];
  #lastStart?: Position;
  /** Where to go once the running playback has stopped (a command's target). */
  #retarget?: (heard: Position) => Position;
  #atEnd = false;
  #telling: Promise<void> = Promise.resolve();
  #ended = Promise.withResolvers<void>();

  constructor(options: PartyOptions) {
    this.#options = options;
    this.#tracks = options.tracks;
    const single = this.#tracks.length === 1 ? this.#tracks[0] : undefined;
    this.live = single?.spec.kind === "url" || single?.spec.kind === "device";
    const decoder = options.useFfmpeg ? "ffmpeg" : "built-in decoder";
    this.label = single
      ? (single.spec.kind === "demo" ? single.label : `${single.label} (${decoder})`)
      : `${this.#tracks.length} tracks (${decoder})`;
    this.#queue = new Queue(this.#tracks.length, { repeat: options.once ? "off" : "all" });
    if (options.shuffle) this.#queue.shuffle();
    this.#cursor = { index: this.#queue.first, frame: 0 };
    this.playback = new Playback({
      source: this,
      timeline: options.timeline,
      log: options.log,
      onStopped: (cut) => this.#onStopped(cut),
      finished: () => this.#atEnd,
      onFinished: (endUs, signal) => this.#onFinished(endUs, signal),
    });
  }

  /** Resolves when a `--once` party has been heard to its end. */
  get ended(): Promise<void> {
    return this.#ended.promise;
  }

  /** What is heard now, for a worker that asks before anything played. */
  nowPlaying(atUs = this.#options.clock.nowUs(), heard?: Position): NowPlaying {
    return this.#describe(atUs, this.#positionAt(atUs, heard));
  }

  #positionAt(atUs: number, heard?: Position): Position {
    return heard ??
      (this.#state === "playing" && this.playback.active ? this.#heardAt(atUs) : this.#cursor);
  }

  /**
   * Tells the workers, with the track's cover: covers are read from files, so
   * announcements queue up to keep their order.
   */
  #tell(atUs = this.#options.clock.nowUs(), heard?: Position): void {
    const at = this.#positionAt(atUs, heard);
    const nowPlaying = this.#describe(atUs, at);
    const spec = this.#tracks[at.index].spec;
    const path = spec.kind === "file" ? spec.path : undefined;
    const { announce, withArtwork } = this.#options;
    this.#telling = this.#telling
      .then(async () => announce(withArtwork ? await withArtwork(path, nowPlaying) : nowPlaying))
      .catch((error) => this.#options.log.error(`cannot announce what plays: ${error}`));
  }

  #describe(atUs: number, at: Position): NowPlaying {
    return {
      atUs,
      track: this.#infos.get(at.index) ?? listedInfo(this.#tracks[at.index].listedTitle),
      positionMs: Math.round((at.frame * 1000) / SAMPLE_RATE),
      playback: this.#state,
      repeat: this.#queue.repeat,
      shuffle: this.#queue.shuffled,
      supported: this.supported(),
    };
  }

  /** Only what means something for this source in this state. */
  supported(): PartyCommand[] {
    const list: PartyCommand[] = [this.#state === "playing" ? "pause" : "play"];
    if (this.#state !== "stopped") list.push("stop");
    const endless = this.live || this.#tracks[0].spec.kind === "demo";
    if (!endless) list.push("repeat_off", "repeat_one", "repeat_all");
    if (this.#tracks.length > 1) list.push("next", "previous", "shuffle", "unshuffle");
    return list;
  }

  /** A controller's command, from a client on any worker. */
  async command(command: PartyCommand): Promise<void> {
    const { log } = this.#options;
    if (!this.supported().includes(command)) {
      return log.debug(`ignored ${command}: it does not apply now`);
    }
    log.info(`Controller: ${command}`);
    switch (command) {
      case "play":
        this.#state = "playing";
        this.announceNow();
        return await this.playback.setPaused(false);
      case "pause":
        this.#state = "paused";
        await this.#moveAfterStop((heard) => heard, false);
        return this.announceNow();
      case "stop":
        this.#state = "stopped";
        await this.#moveAfterStop((heard) => ({ index: heard.index, frame: 0 }), false);
        return this.announceNow();
      case "next":
      case "previous": {
        const to = (heard: Position): Position => {
          if (command === "next") return { index: this.#queue.next(heard.index), frame: 0 };
          if (heard.frame > RESTART_TRACK_AFTER_FRAMES) return { index: heard.index, frame: 0 };
          return { index: this.#queue.previous(heard.index), frame: 0 };
        };
        await this.#moveAfterStop(to, true);
        // Playing, the new track is announced when its first sample is heard.
        if (this.#state !== "playing" || !this.playback.active) this.announceNow();
        return;
      }
      case "repeat_off":
      case "repeat_one":
      case "repeat_all":
        this.#queue.repeat = command === "repeat_off"
          ? "off"
          : command === "repeat_one"
          ? "one"
          : "all";
        return this.announceNow();
      case "shuffle":
      case "unshuffle":
        if (command === "shuffle") this.#queue.shuffle(this.#where().index);
        else this.#queue.unshuffle();
        return this.announceNow();
    }
  }

  /**
   * Reads the first track's description before anyone listens, so the first now-playing is
   * whole; `tags` are what a start-up check of it already saw.
   */
  async prepare(tags?: TrackTags): Promise<void> {
    await this.#loadInfo(this.#cursor.index);
    if (tags) this.#onTags(this.#cursor.index, tags);
  }

  setWanted(wanted: boolean): Promise<void> {
    return this.playback.setWanted(wanted);
  }

  /** Track after track from the cursor; a track that cannot play is skipped with one line. */
  async *decode(signal: AbortSignal): AsyncGenerator<AudioBlock> {
    const { log, useFfmpeg } = this.#options;
    this.#atEnd = false;
    let failedInARow = 0;
    while (!signal.aborted) {
      const { index, frame } = this.#cursor;
      const track = this.#tracks[index];
      const single = this.#tracks.length === 1;
      await this.#loadInfo(index);
      let produced = false;
      // A file resumes where it was heard; a stream or the demo joins anew.
      const seekable = track.spec.kind === "file";
      if (!seekable) this.#cursor.frame = 0;
      // Positions count time in 48 kHz frames, whatever each track's own rate.
      let skipUs = seekable ? (frame * 1_000_000) / SAMPLE_RATE : 0;
      try {
        const source = createSource(track.spec, {
          useFfmpeg,
          onTags: (tags) => this.#onTags(index, tags),
        });
        for await (let block of source.decode(signal)) {
          const frameBytes = bytesPerFrame(block.format);
          const rate = block.format.sampleRate;
          if (skipUs > 0) {
            // Resuming mid-track: decoded from its start, the heard part skipped.
            const skipFrames = Math.round((skipUs * rate) / 1_000_000);
            const frames = block.pcm.length / frameBytes;
            if (skipFrames >= frames) {
              skipUs -= (frames * 1_000_000) / rate;
              continue;
            }
            block = { format: block.format, pcm: block.pcm.subarray(skipFrames * frameBytes) };
            skipUs = 0;
          }
          if (!produced) this.#markStart({ index, frame: seekable ? frame : 0 });
          produced = true;
          this.#cursor.frame += (block.pcm.length / frameBytes) * (SAMPLE_RATE / rate);
          yield block;
        }
        if (!produced && !single && !signal.aborted) {
          log.warn(`Skipping ${track.label}: it has no audio`);
        }
      } catch (error) {
        if (single || signal.aborted) throw error;
        log.warn(`Skipping ${track.label}: ${error instanceof Error ? error.message : error}`);
      }
      if (signal.aborted) return;
      failedInARow = produced ? 0 : failedInARow + 1;
      if (!single && failedInARow >= this.#tracks.length) {
        throw new Error(`none of its ${this.#tracks.length} tracks could be played`);
      }
      const next = this.#queue.after(index);
      this.#cursor = { index: next ?? this.#queue.first, frame: 0 };
      this.#atEnd = next === undefined;
      // One track loops through Playback (which retries a live stream); a list loops here.
      if (single || this.#atEnd) return;
    }
  }

  /** A track's first sample is about to be pushed: announce it for when it is heard. */
  #markStart(start: Position): void {
    this.#lastStart = start;
    this.#options.timeline.onNextSample((atUs) => {
      this.#heard.push({ ...start, atUs });
      // Only the last start already heard is needed, besides those still to come.
      const nowUs = this.#options.clock.nowUs();
      while (this.#heard.length > 1 && this.#heard[1].atUs <= nowUs) this.#heard.shift();
      this.#tell(atUs, start);
    });
  }

  /** The position heard at `atUs`. */
  #heardAt(atUs: number): Position {
    let entry = this.#heard[0];
    for (const start of this.#heard) if (start.atUs <= atUs) entry = start;
    if (!entry) return this.#lastStart ?? this.#cursor;
    const frames = Math.max(0, Math.round(((atUs - entry.atUs) * SAMPLE_RATE) / 1_000_000));
    return { index: entry.index, frame: entry.frame + frames };
  }

  /** Where the party is for a command: what is heard when playing, else the cursor. */
  #where(): Position {
    return this.playback.active ? this.#heardAt(this.#options.clock.nowUs()) : this.#cursor;
  }

  /** Stops (cut: and restarts) playback, then moves the cursor with `to`. */
  async #moveAfterStop(to: (heard: Position) => Position, cut: boolean): Promise<void> {
    if (!this.playback.active) {
      this.#cursor = to(this.#cursor);
      return;
    }
    this.#retarget = to;
    await (cut ? this.playback.cut() : this.playback.setPaused(true));
  }

  /** Playback stopped (a command, or nobody listens): it resumes from what was heard. */
  #onStopped(cut: boolean): void {
    const heard = this.#heardAt(this.#options.clock.nowUs());
    const duration = this.#infos.get(heard.index)?.durationMs;
    const pastEnd = duration !== undefined && (heard.frame * 1000) / SAMPLE_RATE >= duration;
    const at = pastEnd ? { index: heard.index, frame: 0 } : heard;
    this.#cursor = this.#retarget ? this.#retarget(at) : at;
    this.#retarget = undefined;
    this.#heard = [];
    this.#lastStart = undefined;
    this.#options.onStopped(cut);
  }

  /** The list played to its end (repeat off): once heard, end the party or stop. */
  async #onFinished(endUs: number, signal: AbortSignal): Promise<void> {
    const waitMs = (endUs - this.#options.clock.nowUs()) / 1000;
    if (waitMs > 0) await sleepMs(Math.ceil(waitMs), signal);
    if (signal.aborted) return;
    if (this.#options.once) return this.#ended.resolve();
    this.#state = "stopped";
    this.#retarget = () => ({ index: this.#queue.first, frame: 0 });
    // Not awaited: this runs inside the playback that is being stopped.
    this.playback.setPaused(true).then(() => this.announceNow());
  }

  /** Tells the workers the state heard now (at start, and after a command). */
  announceNow(): void {
    this.#tell();
  }

  async #loadInfo(index: number): Promise<void> {
    if (this.#infos.has(index)) return;
    const track = this.#tracks[index];
    const listed = listedInfo(track.listedTitle);
    const probed = this.#options.useFfmpeg && track.spec.kind === "file"
      ? await probeTrackInfo(track.spec.path)
      : {};
    // The file's own tags win; a playlist's title stands in where it has none.
    this.#infos.set(index, probed.title ? probed : { ...listed, ...probed });
  }

  /** Tags from the decoder: a stream's new title, or a file's tags without ffprobe. */
  #onTags(index: number, tags: TrackTags): void {
    const info = this.#infos.get(index) ?? {};
    const track = this.#tracks[index];
    const replaces = track.spec.kind !== "file"; // a stream title is what plays now
    const next: TrackInfo = replaces ? { ...info, ...tags } : { ...tags, ...info };
    if (replaces && tags.artist === undefined) delete next.artist; // a new title, artist unknown
    const fields = Object.keys({ ...info, ...next }) as (keyof TrackInfo)[];
    if (fields.every((field) => next[field] === info[field])) return;
    this.#infos.set(index, next);
    if (this.#lastStart?.index !== index) return; // announced with its track start
    this.#options.timeline.onNextSample((atUs) => this.#tell(atUs));
  }
}
