/**
 * One client's artwork stream: its channels (what it asked for), `stream/start` with their
 * configuration, and each cover rendered as asked and sent on each channel with the time it
 * is to be shown. Renderings are shared by the worker's clients (ArtworkImages); sends keep
 * their order even though rendering is asynchronous. A channel of source "artist" gets no
 * image (the party has no artist pictures), so it is cleared.
 */
import type { ArtworkChannel, ArtworkChannelChange } from "../../protocol/artwork_messages.ts";
import type { ArtworkRole, CoverChange } from "./artwork_role.ts";
import type { Rendering } from "./artwork_images.ts";
import { TokenBucket } from "../token_bucket.ts";

/** What the stream needs of its client's connection. */
export interface ArtworkSink {
  send(type: string, payload: Record<string, unknown>): void;
  sendArtwork(channel: number, timestampUs: number, image: Uint8Array): void;
}

const EMPTY = new Uint8Array(0);
/**
 * Channel changes a client may make: a burst, then one every 2 s. Each costs the worker a
 * rendering (tens of ms of its event loop); a client that asks for size after size must not
 * keep it busy. Changes beyond are ignored.
 */
const CHANGE_BURST = 8;
const CHANGES_PER_SECOND = 0.5;

export class ArtworkStream {
  channels: ArtworkChannel[] = [];
  #active = false;
  /** Sends in their order, each after its rendering. */
  #queue: Promise<void> = Promise.resolve();
  /** Bumped per channel when its configuration changes: renderings for the old one are dropped. */
  #generation: number[] = [0, 0, 0, 0];
  readonly #listener = { show: (change: CoverChange) => this.#show(change) };
  #changes = new TokenBucket(CHANGE_BURST, CHANGES_PER_SECOND);
  /** Legacy: the size of the image last sent per channel, which stream/start reports. */
  #sentSizes: ({ width: number; height: number } | undefined)[] = [];

  /**
   * `fit`: the legacy dialect's sizes are maxima ("inside"), the encrypted dialect's exact
   * ("pad", centred on black).
   */
  constructor(
    readonly role: ArtworkRole,
    readonly sink: ArtworkSink,
    readonly fit: "inside" | "pad",
  ) {}

  get active(): boolean {
    return this.#active;
  }

  /** Starts the stream with `channels`: stream/start, then the cover now and those planned. */
  start(channels: ArtworkChannel[]): void {
    this.channels = channels;
    this.#active = true;
    this.role.listen(this.#listener);
    this.#sendStart();
    for (const change of this.role.plan(this.role.clock.nowUs())) this.#show(change);
  }

  /**
   * The client's channels changed (encrypted client/state): a running stream is restarted
   * with them and the changed channels get the cover again; one not running only remembers.
   */
  configure(channels: ArtworkChannel[]): void {
    if (!this.#active) {
      this.channels = channels;
      return;
    }
    const changed: number[] = [];
    for (let i = 0; i < 4; i++) {
      if (JSON.stringify(channels[i] ?? NONE) !== JSON.stringify(this.channels[i] ?? NONE)) {
        changed.push(i);
      }
    }
    if (changed.length === 0) return;
    const nowUs = this.role.clock.nowUs();
    if (!this.#changes.take(nowUs)) {
      this.role.log.warn("an artwork client changes its channels too often: change ignored");
      return;
    }
    for (const i of changed) {
      this.#generation[i]++;
      this.#sentSizes[i] = undefined;
      // The spec: a channel turned to "none" is cleared first, with a present timestamp.
      if ((channels[i] ?? NONE).source === "none" && (this.channels[i] ?? NONE).source !== "none") {
        this.#enqueue(i, Promise.resolve(undefined), nowUs);
      }
    }
    this.channels = channels;
    this.#queue = this.#queue.then(() => this.#sendStart());
    for (const change of this.role.plan(nowUs)) this.#show(change, changed);
  }

  /** A legacy stream/request-format for one channel. */
  change(request: ArtworkChannelChange): void {
    const { channel, ...fields } = request;
    const channels = [...this.channels];
    while (channels.length <= channel) channels.push({ ...NONE });
    const merged = { ...channels[channel], ...fields };
    channels[channel] = merged.source === "none" ? { source: "none" } : merged;
    const complete = merged.source === "none" || (merged.format && merged.width && merged.height);
    if (complete) this.configure(channels);
  }

  /** The stream ends (the client went away, or may no longer play): stream/end for artwork. */
  end(): void {
    if (!this.#active) return;
    this.stop();
    this.sink.send("stream/end", { roles: ["artwork"] });
  }

  /** Stops without a word (the connection is gone). */
  stop(): void {
    this.#active = false;
    this.role.unlisten(this.#listener);
    this.#generation = this.#generation.map((g) => g + 1);
  }

  #sendStart(): void {
    if (!this.#active) return;
    // Truncated after the last streamed channel, as the spec asks.
    const last = this.channels.findLastIndex((c) => c.source !== "none");
    const channels = this.channels.slice(0, last + 1).map((c, i) =>
      c.source === "none" ? { source: "none" } : {
        source: c.source,
        format: c.format,
        width: this.#sentSizes[i]?.width ?? c.width,
        height: this.#sentSizes[i]?.height ?? c.height,
      }
    );
    this.sink.send("stream/start", { artwork: { channels } });
  }

  /** Sends `change` on each channel (or those of `only`) that wants artwork. */
  #show(change: CoverChange, only?: number[]): void {
    this.channels.forEach((channel, i) => {
      if (channel.source === "none" || (only && !only.includes(i))) return;
      this.#enqueue(i, this.#render(channel, change.key), change.atUs);
    });
  }

  /** The rendering for `channel`; undefined: the empty image. */
  #render(channel: ArtworkChannel, key: string | undefined): Promise<Rendering | undefined> {
    if (!key || channel.source !== "album") return Promise.resolve(undefined);
    const rendering = this.role.images.render(key, {
      format: channel.format!,
      width: channel.width!,
      height: channel.height!,
      fit: this.fit,
    });
    if (!rendering) {
      this.role.log.warn(`artwork ${key} was announced but never arrived: the channel is cleared`);
      return Promise.resolve(undefined);
    }
    return rendering.catch((error) => {
      this.role.log.warn(`Cannot render artwork ${key}: ${error?.message ?? error}`);
      return undefined;
    });
  }

  #enqueue(channel: number, image: Promise<Rendering | undefined>, atUs: number): void {
    const generation = this.#generation[channel];
    this.#queue = this.#queue.then(async () => {
      const rendering = await image;
      if (!this.#active || this.#generation[channel] !== generation) return;
      if (rendering && this.fit === "inside") this.#reportSize(channel, rendering);
      this.sink.sendArtwork(channel, atUs, rendering?.bytes ?? EMPTY);
    });
  }

  /**
   * Legacy sizes are maxima, and stream/start names the size of the image sent: a cover of
   * another shape than the last one is preceded by a stream/start with its size.
   */
  #reportSize(channel: number, { width, height }: Rendering): void {
    const reported = this.#sentSizes[channel] ?? this.channels[channel];
    if (reported?.width === width && reported?.height === height) return;
    this.#sentSizes[channel] = { width, height };
    this.#sendStart();
  }
}

const NONE: ArtworkChannel = { source: "none" };
