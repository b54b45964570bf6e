/**
 * The party on one worker: its listeners, the future audio, one output stream per format
 * and who listens to which, group volume and what is playing. Every listener of a server
 * shares one group and one timeline. The group alone changes who listens to what: a session
 * asks (`subscribe`, `unsubscribe`) and is told (`startStream`, `deliver`).
 */
import type { Clock } from "../protocol/clock.ts";
import type { Logger } from "../protocol/log.ts";
import type { AudioFormat } from "../protocol/messages.ts";
import {
  CHUNK_FRAMES,
  pcmDurationUs,
  type PcmFormat,
  samePcmFormat,
  SAMPLE_RATE,
} from "../protocol/pcm.ts";
import { type NowPlaying, PARTY_COMMANDS, type PartyCommand } from "../protocol/now_playing.ts";
import { metadataOf, PartyState } from "./party_state.ts";
import {
  canProduce,
  createEncoder,
  type EncoderOptions,
  formatKey,
  isCommonFormat,
  normalizeFormat,
} from "./encoders/negotiate.ts";
import { TokenBucket } from "./token_bucket.ts";
import { BATCH_PERIOD_US } from "./send_queue.ts";
import { averageVolume, redistributeVolume } from "./group_volume.ts";
import { OutputStream } from "./output_stream.ts";
import { type FramedChunk, FutureAudio } from "./future_audio.ts";
import type { GroupPort, Session } from "./session.ts";
import type { ArtworkRole } from "./artwork/artwork_role.ts";

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
  /** Whether a client may play now; default every one. */
  admits?: (session: Session) => boolean;
  /** A client began (true) or stopped (false) waiting for the operator's approval. */
  onWaiting?: (session: Session, waiting: boolean) => void;
  /** The worker's covers (artwork@v1); default none: the role is not offered. */
  artwork?: ArtworkRole;
  /** A controller asked the party to play, pause, skip...: the coordinator decides. */
  onCommand?: (session: Session, command: PartyCommand) => void;
  /**
   * A controller set the group volume or mute. With workers, it goes to the coordinator,
   * which hands it to every worker (`applyGroupVolume`); default: applied here at once.
   */
  onGroupVolume?: (change: { volume?: number; muted?: boolean }) => void;
  /** Keep a record of every client for `--summary`; default false. */
  recordsClients?: boolean;
  /** This worker's players changed (count, sum of volumes, how many muted). */
  onPlayers?: (players: { count: number; volumeSum: number; muted: number }) => void;
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
 * by asking for format after format (PCM, which is only framed, is not counted).
 */
const ENCODER_START_BURST = 6;
const ENCODER_START_INTERVAL_MS = 5_000;
/** How often `flush` runs; PACE_SLOTS ticks make one batch period (send_queue.ts). */
export const PACE_INTERVAL_MS = 10;
export const PACE_SLOTS = BATCH_PERIOD_US / 1000 / PACE_INTERVAL_MS;
/**
 * Ticks between flushes of listeners that hold too little for a batch period, or are still
 * filling their buffer (one chunk): while a new timeline fills, chunks come several per tick,
 * and one write per chunk per listener is what a join storm on a fresh party used to cost.
 */
const SHORT_LEAD_TICKS = (CHUNK_FRAMES / SAMPLE_RATE) * 1000 / PACE_INTERVAL_MS;
/** How long a change of our players may wait before the coordinator hears of it. */
const PLAYERS_REPORT_MS = 50;

/** A timeline chunk as it comes down the pipe. */
export interface TimelineChunk {
  segment: number;
  playAtUs: number;
  format: PcmFormat;
  pcm: Uint8Array;
}

/** One output format: its encoder and the sessions that listen to it. */
export interface Output {
  readonly key: string;
  readonly stream: OutputStream;
  readonly listeners: Set<Session>;
}

export class Group implements GroupPort {
  readonly serverId: string;
  readonly name: string;
  readonly clock: Clock;
  readonly sessions = new Set<Session>();
  /** Output formats by format key. */
  readonly outputs = new Map<string, Output>();
  readonly future = new FutureAudio();
  readonly artwork?: ArtworkRole;
  readonly recordsClients: boolean;
  playing = false;
  /** What plays, told to clients when it is heard. */
  readonly party: PartyState;
  /** The format of the newest timeline chunk: what the source plays in. */
  sourceFormat?: PcmFormat;
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
  /** Listeners whose buffer holds less than two batch periods: flushed every chunk. */
  readonly #shortLead = new Set<Session>();
  /** Listeners still filling their buffer: flushed every chunk until they hold a second. */
  readonly #hungry = new Set<Session>();
  /** The output each subscribed session listens to. */
  #listening = new Map<Session, Output>();
  /** Connected clients waiting for the operator's approval. */
  readonly waitingSessions = new Set<Session>();
  #admits: (session: Session) => boolean;
  #onWaiting?: (session: Session, waiting: boolean) => void;
  #onCommand?: (session: Session, command: PartyCommand) => void;
  #onGroupVolume?: (change: { volume?: number; muted?: boolean }) => void;
  #onPlayers?: (players: { count: number; volumeSum: number; muted: number }) => void;
  #lastPlayers = "";
  /** A players report is due: one per PLAYERS_REPORT_MS, however many joined meanwhile. */
  #playersReport?: ReturnType<typeof setTimeout>;
  /** The players of every worker, from the coordinator; until then, ours. */
  #allPlayers?: { count: number; volume: number; muted: boolean };

  constructor(options: GroupOptions) {
    this.serverId = options.serverId;
    this.name = options.name;
    this.clock = options.clock;
    this.#log = options.log;
    this.#onMembership = options.onMembership;
    this.#hasRoom = options.hasRoom ?? (() => true);
    this.#onRejected = options.onRejected;
    this.#encoderOptions = options.encoderOptions ?? {};
    this.#admits = options.admits ?? (() => true);
    this.#onWaiting = options.onWaiting;
    this.artwork = options.artwork;
    this.#onCommand = options.onCommand;
    this.recordsClients = options.recordsClients ?? false;
    this.#onGroupVolume = options.onGroupVolume;
    this.#onPlayers = options.onPlayers;
    this.party = new PartyState(this.clock, () => this.#heard());
  }

  // --- from the coordinator ---

  onChunk(timeline: TimelineChunk): void {
    const chunk = {
      ...timeline,
      endUs: timeline.playAtUs + pcmDurationUs(timeline.format, timeline.pcm),
    };
    this.future.addPcm(chunk);
    const before = this.sourceFormat;
    this.sourceFormat = chunk.format;
    for (const output of [...this.outputs.values()]) {
      try {
        output.stream.feed(chunk);
      } catch (error) {
        this.#dropOutput(output, error);
      }
    }
    // Every output has ended its old run at the change: listeners on the old source's own
    // format may follow the new one.
    if (before && !samePcmFormat(before, chunk.format)) {
      for (const [session, output] of [...this.#listening]) {
        const f = output.stream.format;
        const own = f.codec !== "opus" && f.sample_rate === before.sampleRate &&
          f.channels === before.channels && f.bit_depth === before.bitDepth;
        if (own) session.followSource();
      }
    }
    if (!this.playing) {
      this.playing = true;
      this.#broadcast("group/update", this.#groupState());
    }
  }

  onStopped(): void {
    this.future.clear();
    for (const output of this.outputs.values()) output.stream.reset();
    for (const session of this.sessions) session.endStream();
    if (this.playing) {
      this.playing = false;
      this.#broadcast("group/update", this.#groupState());
    }
  }

  /** The audio ahead was dropped (next, previous): players clear and keep their stream. */
  onCleared(): void {
    this.future.clear();
    for (const output of this.outputs.values()) output.stream.reset();
    for (const session of this.sessions) session.clearStream();
  }

  /** What plays from `nowPlaying.atUs` on: clients are told when that time comes. */
  onNowPlaying(nowPlaying: NowPlaying): void {
    this.party.announce(nowPlaying);
  }

  /**
   * Called every PACE_INTERVAL_MS: tops up one slot of listeners, so each gets one batch per
   * batch period but never all in the same tick. Sending to a thousand listeners at once would
   * hold the event loop for milliseconds, and every time answer behind it.
   */
  flush(): void {
    const tick = this.#paceTick++;
    const nowUs = this.clock.nowUs();
    for (const session of this.#paceSlots[tick % PACE_SLOTS]) session.flush(nowUs);
    if (tick % SHORT_LEAD_TICKS === 0) {
      for (const session of this.#shortLead) session.flush(nowUs);
      for (const session of this.#hungry) {
        if (session.hungry(nowUs)) session.flush(nowUs);
        else this.#hungry.delete(session);
      }
    }
  }

  /** Stops what the group has scheduled (the worker is shutting down). */
  stop(): void {
    clearTimeout(this.#playersReport);
    this.#playersReport = undefined;
  }

  /** A listener's lead is too short for batches (a small buffer): it is flushed every chunk. */
  setShortLead(session: Session, short: boolean): void {
    if (short && this.sessions.has(session)) this.#shortLead.add(session);
    else this.#shortLead.delete(session);
  }

  /** A listener is still filling its buffer: topped up every chunk until it holds a second. */
  feedHungry(session: Session): void {
    if (this.sessions.has(session)) this.#hungry.add(session);
  }

  // --- from sessions ---

  hasRoom(): boolean {
    return this.#hasRoom();
  }

  rejected(): void {
    this.rejectedMessages++;
    this.#onRejected?.();
  }

  admits(session: Session): boolean {
    return this.#admits(session);
  }

  /** Held, not a listener: it hears the group's state, no more, until it is approved. */
  waiting(session: Session): void {
    this.waitingSessions.add(session);
    session.send("group/update", this.#groupState());
    this.#onWaiting?.(session, true);
  }

  /** A waiting client is taken for pairing: not waiting any more, and not gone either. */
  setAside(session: Session): void {
    this.waitingSessions.delete(session);
  }

  /**
   * Approvals changed: every waiting client that may play now starts, and a listener whose
   * approval was revoked stops and waits again.
   */
  reconsider(): void {
    for (const session of [...this.sessions]) {
      if (this.#admits(session)) continue;
      this.leave(session);
      session.unadmit();
    }
    for (const session of [...this.waitingSessions]) {
      if (!this.#admits(session)) continue;
      this.waitingSessions.delete(session);
      session.admit();
    }
  }

  join(session: Session): void {
    if (this.sessions.has(session)) return;
    this.sessions.add(session);
    session.paceSlot = this.#joined++ % PACE_SLOTS;
    this.#paceSlots[session.paceSlot].add(session);
    session.send("group/update", this.#groupState());
    if (session.hasRole("controller")) session.send("server/state", this.#controllerState());
    this.#sendMetadata(session);
    this.#reportPlayersSoon();
    this.#onMembership?.(session, true, this.sessions.size);
  }

  leave(session: Session): void {
    this.unsubscribe(session);
    if (this.waitingSessions.delete(session)) this.#onWaiting?.(session, false);
    if (!this.sessions.delete(session)) return;
    this.#paceSlots[session.paceSlot].delete(session);
    this.#shortLead.delete(session);
    this.#hungry.delete(session);
    this.#onMembership?.(session, false, this.sessions.size);
    this.#sendControllerState();
  }

  pickFormat(formats: readonly AudioFormat[]): AudioFormat | undefined {
    for (const format of formats) {
      const output = this.#outputFor(format);
      if (output) return output.stream.format;
    }
    return undefined;
  }

  /**
   * Moves `session` to the first of `formats` (in its order of preference) that this worker
   * can stream, and starts it there from the audio already encoded. Returns the format, or
   * undefined if none can start now (the session keeps what it had).
   */
  subscribe(session: Session, formats: readonly AudioFormat[]): AudioFormat | undefined {
    for (const format of formats) {
      const output = this.#outputFor(format);
      if (!output) continue;
      if (this.#listening.get(session) === output) return output.stream.format;
      this.unsubscribe(session);
      output.listeners.add(session);
      this.#listening.set(session, output);
      session.startStream(output.stream, this.future.framed(output.key, this.clock.nowUs()));
      return output.stream.format;
    }
    return undefined;
  }

  /** The session no longer listens; an encoder nobody listens to is stopped. */
  unsubscribe(session: Session): void {
    const output = this.#listening.get(session);
    if (!output) return;
    this.#listening.delete(session);
    output.listeners.delete(session);
    if (output.listeners.size === 0 && this.outputs.get(output.key) === output) {
      this.#removeOutput(output);
      this.#log.debug(`encoder stopped: ${output.key}`);
    }
  }

  requestedFormat(session: Session, request: Partial<AudioFormat>): AudioFormat | undefined {
    const current = this.#listening.get(session)?.stream.format;
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
    if (command === "volume" && typeof value === "number") {
      this.#groupVolume({ volume: value });
    } else if (command === "mute" && typeof value === "boolean") {
      this.#groupVolume({ muted: value });
    } else {
      // Only what supported_commands offers now: a radio stream has no `next`.
      const party = PARTY_COMMANDS.find((c) => c === command);
      if (party && this.party.current.supported.includes(party)) {
        this.#onCommand?.(session, party);
      }
    }
  }

  /**
   * The group's volume or mute, for this worker's players: each worker moves its own
   * players to the requested average, so all of them together reach it too.
   */
  applyGroupVolume(change: { volume?: number; muted?: boolean }): void {
    const players = [...this.sessions].filter((s) => s.hasRole("player"));
    if (change.volume !== undefined) {
      const volumes = redistributeVolume(players.map((p) => p.volume), change.volume);
      players.forEach((player, i) => player.setVolume(volumes[i]));
    }
    if (change.muted !== undefined) { for (const player of players) player.setMuted(change.muted); }
    this.#sendControllerState();
  }

  /** The players of every worker together (from the coordinator). */
  setAllPlayers(players: { count: number; volume: number; muted: boolean }): void {
    this.#allPlayers = players;
    this.#sendControllerState();
  }

  #groupVolume(change: { volume?: number; muted?: boolean }): void {
    if (this.#onGroupVolume) this.#onGroupVolume(change);
    else this.applyGroupVolume(change);
  }

  /** The running output of `requested`'s format, or a new one if an encoder may start. */
  #onlyFramed(format: AudioFormat): boolean {
    const source = this.sourceFormat;
    return format.codec === "pcm" && source !== undefined &&
      format.sample_rate === source.sampleRate && format.bit_depth === source.bitDepth &&
      format.channels === source.channels;
  }

  #outputFor(requested: AudioFormat): Output | undefined {
    if (!canProduce(requested)) return undefined;
    const format = normalizeFormat(requested);
    const key = formatKey(format);
    const existing = this.outputs.get(key);
    if (existing) return existing;
    const uncommon = [...this.outputs.values()].filter((o) => !isCommonFormat(o.stream.format));
    if (!isCommonFormat(format) && uncommon.length >= MAX_UNCOMMON_STREAMS) {
      this.#log.warn(`not starting another uncommon encoder (${key}): ${uncommon.length} run`);
      return undefined;
    }
    const nowUs = this.clock.nowUs();
    // PCM in the source's own format is only framed: starting it costs next to nothing, so
    // guests coming and going on it never use up the starts that guard the real encoders.
    if (!this.#onlyFramed(format) && !this.#encoderStarts.take(nowUs)) {
      this.#log.warn(`not starting an encoder for ${key}: too many started lately`);
      return undefined;
    }
    const output: Output = {
      key,
      listeners: new Set(),
      stream: new OutputStream(format, {
        makeEncoder: (f) => createEncoder(f, this.#encoderOptions),
        clock: this.clock,
        onFramed: (chunk) => this.#onFramed(output, chunk),
        onError: (error) => this.#dropOutput(output, error),
      }),
    };
    this.outputs.set(key, output);
    // Started from the PCM already held, so its first listener hears audio at once; the
    // backlog is encoded in slices, so nobody's time answers wait behind it.
    try {
      output.stream.catchUp(this.future.pcm(nowUs));
    } catch (error) {
      this.#dropOutput(output, error);
      return undefined;
    }
    this.#log.debug(`encoder started: ${key}`);
    return output;
  }

  #onFramed(output: Output, chunk: FramedChunk): void {
    if (this.outputs.get(output.key) !== output) return; // dropped meanwhile
    this.future.addFramed(output.key, chunk);
    for (const session of output.listeners) session.deliver(chunk);
  }

  #removeOutput(output: Output): void {
    this.outputs.delete(output.key);
    this.future.dropFormat(output.key);
    output.stream.close();
  }

  /** An encoder failed: its listeners are told why and closed; everyone else plays on. */
  #dropOutput(output: Output, error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    this.#log.error(`${output.key} output failed: ${reason}`);
    if (this.outputs.get(output.key) === output) this.#removeOutput(output);
    for (const session of [...output.listeners]) {
      session.close(1011, `the ${output.stream.format.codec} encoder failed`);
    }
  }

  /** The whole group state: the encrypted dialect wants every field in every update. */
  #groupState() {
    return {
      playback_state: this.playing ? "playing" : "stopped",
      group_id: GROUP_ID,
      group_name: this.name,
    };
  }

  #controllerState() {
    const party = this.party.current;
    // Every worker's players once the coordinator has told us; until then, ours.
    const players = this.#allPlayers ?? this.#ownPlayers();
    return {
      controller: {
        supported_commands: ["volume", "mute", ...party.supported],
        volume: players.volume,
        muted: players.muted,
        // The whole controller object: the encrypted dialect has no deltas.
        repeat: party.repeat,
        shuffle: party.shuffle,
      },
    };
  }

  /** Sent only when volume or mute changed: clients report their state every 5 s. */
  #sendControllerState() {
    this.#reportPlayersSoon();
    const state = this.#controllerState();
    const text = JSON.stringify(state);
    if (text === this.#lastControllerState) return;
    this.#lastControllerState = text;
    for (const session of this.sessions) {
      if (session.hasRole("controller")) session.send("server/state", state);
    }
  }

  #ownPlayers() {
    const players = [...this.sessions].filter((s) => s.hasRole("player"));
    return {
      volume: averageVolume(players.map((p) => p.volume)),
      muted: players.length > 0 && players.every((p) => p.muted),
    };
  }

  /**
   * Our players go to the coordinator once per PLAYERS_REPORT_MS at most: counting them is a
   * walk over every listener, which a join storm must not pay once per join.
   */
  #reportPlayersSoon() {
    if (!this.#onPlayers || this.#playersReport) return;
    this.#playersReport = setTimeout(() => {
      this.#playersReport = undefined;
      this.#reportPlayers();
    }, PLAYERS_REPORT_MS);
  }

  /** Our players, to the coordinator, when they changed. */
  #reportPlayers() {
    if (!this.#onPlayers) return;
    const players = [...this.sessions].filter((s) => s.hasRole("player"));
    const report = {
      count: players.length,
      volumeSum: players.reduce((sum, p) => sum + p.volume, 0),
      muted: players.filter((p) => p.muted).length,
    };
    const text = JSON.stringify(report);
    if (text === this.#lastPlayers) return;
    this.#lastPlayers = text;
    this.#onPlayers(report);
  }

  /** A new state is heard: metadata clients get it whole, controllers what they may send. */
  #heard() {
    for (const session of this.sessions) this.#sendMetadata(session);
    this.#sendControllerState();
  }

  /** The whole now-playing state in one message: a field the source lacks is null. */
  #sendMetadata(session: Session) {
    if (!session.hasRole("metadata")) return;
    const { artworkPath } = this.party.current;
    const artworkUrl = artworkPath && session.origin ? `${session.origin}${artworkPath}` : null;
    session.send("server/state", { metadata: metadataOf(this.party.current, artworkUrl) });
  }

  #broadcast(type: string, payload: Record<string, unknown>) {
    for (const session of this.sessions) session.send(type, payload);
  }
}
