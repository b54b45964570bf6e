/**
 * The party on one worker: its listeners, the future PCM, one output stream per format,
 * group volume and what is playing. Every listener of a server shares one group and one
 * timeline.
 */
import type { Clock } from "../protocol/clock.ts";
import type { Logger } from "../protocol/log.ts";
import type { AudioFormat } from "../protocol/messages.ts";
import { CHUNK_FRAMES, SAMPLE_RATE } from "../protocol/pcm.ts";
import type { TrackTags } from "../protocol/tags.ts";
import {
  canProduce,
  createEncoder,
  type EncoderOptions,
  formatKey,
  isCommonFormat,
  normalizeFormat,
} from "./encoders/negotiate.ts";
import { TokenBucket } from "./token_bucket.ts";
import { averageVolume, redistributeVolume } from "./group_volume.ts";
import { OutputStream } from "./output_stream.ts";
import { type PcmChunk, PcmRing } from "./pcm_ring.ts";
import type { GroupPort, Session } from "./session.ts";

export interface GroupOptions {
  serverId: string;
  name: string;
  clock: Clock;
  log: Logger;
  /** Passed to every encoder (Opus bitrate). */
  encoderOptions?: EncoderOptions;
  /** Whether one more listener may join (the server-wide --max-clients); default yes. */
  hasRoom?: () => boolean;
  /** Called after a client message was refused (`rejectedMessages` went up). */
  onRejected?: () => void;
  /** Called after a listener joined or left, with the new count. */
  onMembership?: (session: Session, joined: boolean, count: number) => void;
}

const GROUP_ID = "party";
/**
 * Output formats per worker beyond the common ones (16-bit stereo at 44.1 or 48 kHz, which
 * always have room). Each is an encoder fed every chunk; real clients ask for two or three.
 */
export const MAX_UNCOMMON_STREAMS = 8;
/**
 * Starting an encoder costs a worker up to 100 ms of encoding (5 s of backlog): a burst of
 * this many, then one per ENCODER_START_INTERVAL_MS, so no client can keep a worker busy
 * by asking for format after format.
 */
const ENCODER_START_BURST = 6;
const ENCODER_START_INTERVAL_MS = 5_000;
/** How often `flush` runs; PACE_SLOTS ticks make one 60 ms chunk. */
export const PACE_INTERVAL_MS = 10;
export const PACE_SLOTS = (CHUNK_FRAMES / SAMPLE_RATE) * 1000 / PACE_INTERVAL_MS;

export class Group implements GroupPort {
  readonly serverId: string;
  readonly name: string;
  readonly clock: Clock;
  readonly sessions = new Set<Session>();
  readonly streams = new Map<string, OutputStream>();
  readonly ring = new PcmRing();
  playing = false;
  tags: TrackTags = {};
  #log: Logger;
  #onMembership;
  #hasRoom: () => boolean;
  #onRejected?: () => void;
  /** Client messages this worker refused (malformed, unknown, too big, too many). */
  rejectedMessages = 0;
  #encoderOptions: EncoderOptions;
  #lastControllerState = "";
  #paceTick = 0;
  #encoderStarts = new TokenBucket(ENCODER_START_BURST, 1_000 / ENCODER_START_INTERVAL_MS);
  #joined = 0;
  /** Listeners by pace slot; `flush` visits one slot per tick. */
  #paceSlots = Array.from({ length: PACE_SLOTS }, () => new Set<Session>());

  constructor(options: GroupOptions) {
    this.serverId = options.serverId;
    this.name = options.name;
    this.clock = options.clock;
    this.#log = options.log;
    this.#onMembership = options.onMembership;
    this.#hasRoom = options.hasRoom ?? (() => true);
    this.#onRejected = options.onRejected;
    this.#encoderOptions = options.encoderOptions ?? {};
  }

  // --- from the coordinator ---

  onChunk(chunk: PcmChunk): void {
    this.ring.push(chunk);
    for (const stream of [...this.streams.values()]) {
      try {
        stream.feed(chunk);
      } catch (error) {
        this.#dropStream(stream, error);
      }
    }
    if (!this.playing) {
      this.playing = true;
      this.#broadcast("group/update", { playback_state: "playing" });
    }
  }

  onStopped(): void {
    this.ring.clear();
    for (const stream of this.streams.values()) stream.reset();
    for (const session of this.sessions) session.endStream();
    if (this.playing) {
      this.playing = false;
      this.#broadcast("group/update", { playback_state: "stopped" });
    }
  }

  onMetadata(tags: TrackTags): void {
    this.tags = tags;
    for (const session of this.sessions) this.#sendMetadata(session);
  }

  /**
   * Called every PACE_INTERVAL_MS: sends queued audio to one slot of listeners, so each is
   * flushed once per chunk but never all in the same tick. Sending to a thousand listeners
   * at once would hold the event loop for milliseconds, and every time answer behind it.
   */
  flush(): void {
    const slot = this.#paceSlots[this.#paceTick++ % PACE_SLOTS];
    const nowUs = this.clock.nowUs();
    for (const session of slot) session.flush(nowUs);
  }

  // --- from sessions ---

  hasRoom(): boolean {
    return this.#hasRoom();
  }

  rejected(): void {
    this.rejectedMessages++;
    this.#onRejected?.();
  }

  join(session: Session): void {
    this.sessions.add(session);
    session.paceSlot = this.#joined++ % PACE_SLOTS;
    this.#paceSlots[session.paceSlot].add(session);
    session.send("group/update", {
      playback_state: this.playing ? "playing" : "stopped",
      group_id: GROUP_ID,
      group_name: this.name,
    });
    if (session.hasRole("controller")) session.send("server/state", this.#controllerState());
    this.#sendMetadata(session);
    this.#onMembership?.(session, true, this.sessions.size);
  }

  leave(session: Session): void {
    if (!this.sessions.delete(session)) return;
    this.#paceSlots[session.paceSlot].delete(session);
    this.#onMembership?.(session, false, this.sessions.size);
    this.#sendControllerState();
  }

  streamFor(requested: AudioFormat): OutputStream | undefined {
    if (!canProduce(requested)) return undefined;
    const format = normalizeFormat(requested);
    const key = formatKey(format);
    const existing = this.streams.get(key);
    if (existing) return existing;
    const uncommon = [...this.streams.values()].filter((s) => !isCommonFormat(s.format)).length;
    if (!isCommonFormat(format) && uncommon >= MAX_UNCOMMON_STREAMS) {
      this.#log.warn(`not starting another uncommon encoder (${key}): ${uncommon} run already`);
      return undefined;
    }
    const nowUs = this.clock.nowUs();
    if (!this.#encoderStarts.take(nowUs)) {
      this.#log.warn(`not starting an encoder for ${key}: too many started lately`);
      return undefined;
    }
    const stream = new OutputStream(
      format,
      (f) => createEncoder(f, this.#encoderOptions),
      this.clock,
    );
    this.streams.set(key, stream);
    stream.onError = (error) => this.#dropStream(stream, error);
    // Started from the PCM already held, so its first listener hears audio at once; the
    // backlog is encoded in slices, so nobody's time answers wait behind it.
    try {
      stream.catchUp(this.ring.future(nowUs));
    } catch (error) {
      this.#dropStream(stream, error);
      return undefined;
    }
    this.#log.debug(`encoder started: ${key}`);
    return stream;
  }

  /** Drops a stream nobody listens to any more. */
  release(_session: Session, stream: OutputStream): void {
    if (stream.subscribers.size > 0) return;
    const key = formatKey(stream.format);
    if (this.streams.get(key) === stream) {
      this.streams.delete(key);
      stream.close();
      this.#log.debug(`encoder stopped: ${key}`);
    }
  }

  requestedFormat(session: Session, request: Partial<AudioFormat>): AudioFormat | undefined {
    const current = session.stream?.format;
    const wanted = { codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16, ...current };
    const format = { ...wanted, ...request } as AudioFormat;
    if (canProduce(format)) return normalizeFormat(format);
    this.#log.debug(`${session.displayName} asked for a format we cannot produce`);
    return undefined;
  }

  playerChanged(_session: Session): void {
    this.#sendControllerState();
  }

  controllerCommand(session: Session, command: string, value: number | boolean | undefined) {
    if (!session.hasRole("controller")) return;
    const players = [...this.sessions].filter((s) => s.hasRole("player"));
    if (command === "volume" && typeof value === "number") {
      const volumes = redistributeVolume(players.map((p) => p.volume), value);
      players.forEach((player, i) => {
        player.volume = volumes[i];
        player.send("server/command", { player: { command: "volume", volume: volumes[i] } });
      });
    } else if (command === "mute" && typeof value === "boolean") {
      for (const player of players) {
        player.muted = value;
        player.send("server/command", { player: { command: "mute", mute: value } });
      }
    } else {
      return; // play, pause, next...: not offered in supported_commands, so ignored
    }
    this.#sendControllerState();
  }

  /** An encoder failed: its listeners are told why and closed; everyone else plays on. */
  #dropStream(stream: OutputStream, error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    const key = formatKey(stream.format);
    this.#log.error(`${key} output failed: ${reason}`);
    if (this.streams.get(key) === stream) this.streams.delete(key);
    stream.close();
    for (const subscriber of [...stream.subscribers]) {
      subscriber.close(1011, `the ${stream.format.codec} encoder failed`);
    }
  }

  #controllerState() {
    const players = [...this.sessions].filter((s) => s.hasRole("player"));
    return {
      controller: {
        supported_commands: ["volume", "mute"],
        volume: averageVolume(players.map((p) => p.volume)),
        muted: players.length > 0 && players.every((p) => p.muted),
      },
    };
  }

  /** Sent only when volume or mute changed: clients report their state every 5 s. */
  #sendControllerState() {
    const state = this.#controllerState();
    const text = JSON.stringify(state);
    if (text === this.#lastControllerState) return;
    this.#lastControllerState = text;
    for (const session of this.sessions) {
      if (session.hasRole("controller")) session.send("server/state", state);
    }
  }

  #sendMetadata(session: Session) {
    if (!session.hasRole("metadata")) return;
    const { title = null, artist = null, album = null } = this.tags;
    session.send("server/state", {
      metadata: { timestamp: this.clock.nowUs(), title, artist, album, artwork_url: null },
    });
  }

  #broadcast(type: string, payload: Record<string, unknown>) {
    for (const session of this.sessions) session.send(type, payload);
  }
}
