/// <reference lib="dom" />
/**
 * One guest's connection to the party: a SendspinPlayer and the page's view of it,
 * idle → connecting → playing ⇄ reconnecting → idle.
 *
 * sendspin-js reconnects a dropped socket by itself with backoff; this class adds what a
 * restarted server needs: a fresh clock filter on every new connection (a new server
 * process has a new clock, and the library's filter would take minutes to walk over), and
 * a watchdog that starts an attempt itself if the library's loop ever stalls.
 */
import {
  type ControllerCommand,
  type GroupUpdatePayload,
  SendspinPlayer,
  type ServerStatePayload,
} from "@sendspin/sendspin-js";
import { guestIdentity } from "./identity.ts";

export type ListenState = "idle" | "connecting" | "playing" | "reconnecting";

export interface NowPlaying {
  title: string;
  artist: string;
  /** The cover on the party's own origin, or undefined when the track has none. */
  artworkUrl: string | undefined;
}

/** The party commands the page has buttons for (volume and mute stay the phone's own). */
export type PartyCommand = "previous" | "play" | "pause" | "next";
const PARTY_COMMANDS: readonly PartyCommand[] = ["previous", "play", "pause", "next"];

export interface ListenSessionOptions {
  /** Origin of the Sendspin server; the socket is `<baseUrl>/sendspin`. */
  baseUrl: string;
  /** Called after every change of state, metadata or playback. */
  onChange: () => void;
}

const FULL_VOLUME = 100;
const RECONNECT_BASE_DELAY_MS = 500; // a restarted worker is back within about 2 s
const RECONNECT_MAX_DELAY_MS = 5_000; // a guest never waits longer than this once it is back
const WATCHDOG_INTERVAL_MS = 250;
const STALLED_ATTEMPT_MS = 15_000; // a socket stuck in CONNECTING never reaches the backoff

export class ListenSession {
  #options: ListenSessionOptions;
  #state: ListenState = "idle";
  #player: SendspinPlayer | undefined;
  #nowPlaying: NowPlaying | undefined;
  #commands: ReadonlySet<PartyCommand> = new Set();
  #groupPlaying = false;
  #lastAttemptMs = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(options: ListenSessionOptions) {
    this.#options = options;
  }

  get state(): ListenState {
    return this.#state;
  }

  get nowPlaying(): NowPlaying | undefined {
    return this.#nowPlaying;
  }

  /** The party commands the server offers now; empty while not connected. */
  get commands(): ReadonlySet<PartyCommand> {
    return this.#commands;
  }

  /** True while the group plays, as the server says (group/update playback_state). */
  get isGroupPlaying(): boolean {
    return this.#groupPlaying;
  }

  /** Sends a party command the server offers; anything else is ignored. */
  send(command: PartyCommand): void {
    if (!this.#player || !this.#commands.has(command)) return;
    try {
      this.#player.sendCommand(command as ControllerCommand, undefined);
    } catch (error) {
      console.warn(`Cannot send ${command}:`, error);
    }
  }

  /** True while the server streams audio to this player. */
  get isAudioPlaying(): boolean {
    return this.#state !== "idle" && (this.#player?.isPlaying ?? false);
  }

  /** The player's sync error in ms while audio plays, otherwise undefined. */
  get syncErrorMs(): number | undefined {
    if (!this.isAudioPlaying) return undefined;
    const ms = this.#player?.syncInfo.syncErrorMs;
    return typeof ms === "number" && Number.isFinite(ms) ? ms : undefined;
  }

  /** Call straight from a click handler: audio can only be unlocked there. */
  start(): void {
    if (this.#state !== "idle") return;
    const player: SendspinPlayer = new SendspinPlayer({
      baseUrl: this.#options.baseUrl,
      ...guestIdentity(),
      reconnect: {
        baseDelayMs: RECONNECT_BASE_DELAY_MS,
        maxDelayMs: RECONNECT_MAX_DELAY_MS,
        maxAttempts: Infinity,
        onReconnecting: () => this.#attempting(player),
        onReconnected: () => this.#connected(player),
      },
      onStateChange: (state) =>
        this.#serverStateChanged(player, state.serverState, state.groupState),
    });
    this.#player = player;
    player.unlock().catch((error) => console.warn("Cannot unlock audio output:", error));
    this.#watchdog = setInterval(() => this.#watch(player), WATCHDOG_INTERVAL_MS);
    this.#setState("connecting");
    this.#connect(player);
  }

  stop(reason: "user_request" | "shutdown" = "user_request"): void {
    const player = this.#player;
    if (!player) return;
    this.#player = undefined;
    clearInterval(this.#watchdog);
    this.#nowPlaying = undefined;
    this.#commands = new Set();
    this.#groupPlaying = false;
    player.disconnect(reason);
    this.#setState("idle");
  }

  #connect(player: SendspinPlayer): void {
    this.#lastAttemptMs = performance.now();
    player.connect().then(
      () => this.#connected(player),
      // The library keeps retrying after a failed first attempt; show that.
      () => this.#attempting(player),
    );
  }

  #attempting(player: SendspinPlayer): void {
    if (player !== this.#player) return;
    this.#lastAttemptMs = performance.now();
    this.#setState("reconnecting");
  }

  #connected(player: SendspinPlayer): void {
    if (player !== this.#player || this.#state === "playing") return;
    // Runs on socket open, before any server/time of the new connection arrives.
    resetClockFilter(player);
    player.setVolume(FULL_VOLUME);
    player.setMuted(false);
    this.#setState("playing");
  }

  #watch(player: SendspinPlayer): void {
    if (player !== this.#player) return;
    if (this.#state === "playing" && !player.isConnected) {
      this.#lastAttemptMs = performance.now();
      this.#setState("reconnecting");
    } else if (
      this.#state !== "playing" && performance.now() - this.#lastAttemptMs > STALLED_ATTEMPT_MS
    ) {
      console.warn(`No connection attempt for ${STALLED_ATTEMPT_MS} ms: starting one`);
      this.#setState("reconnecting");
      this.#connect(player);
    }
  }

  #serverStateChanged(
    player: SendspinPlayer,
    state: ServerStatePayload,
    group: GroupUpdatePayload,
  ): void {
    if (player !== this.#player) return;
    this.#nowPlaying = nowPlayingOf(state, this.#options.baseUrl);
    const offered = state.controller?.supported_commands ?? [];
    this.#commands = new Set(PARTY_COMMANDS.filter((command) => offered.includes(command)));
    this.#groupPlaying = group.playback_state === "playing";
    this.#options.onChange();
  }

  #setState(state: ListenState): void {
    this.#state = state;
    this.#options.onChange();
  }
}

function nowPlayingOf(state: ServerStatePayload, baseUrl: string): NowPlaying | undefined {
  const text = (value: unknown) => typeof value === "string" ? value.trim() : "";
  const title = text(state.metadata?.title);
  const artist = text(state.metadata?.artist);
  const artworkUrl = sameOrigin(text(state.metadata?.artwork_url), baseUrl);
  return title || artist || artworkUrl ? { title, artist, artworkUrl } : undefined;
}

/** The page asks no other host for anything: a cover elsewhere is not shown. */
function sameOrigin(url: string, baseUrl: string): string | undefined {
  if (!url) return undefined;
  try {
    const resolved = new URL(url, baseUrl);
    return resolved.origin === new URL(baseUrl).origin ? resolved.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Forget the clock offset of the previous connection. sendspin-js 3.2.1 keeps its filter
 * across reconnects and exposes it only as the internal `core._timeFilter`; if that shape
 * changes, reconnecting still works but a restarted server's clock converges slowly.
 */
function resetClockFilter(player: SendspinPlayer): void {
  const core = (player as unknown as { core?: { _timeFilter?: { reset?: () => void } } }).core;
  const filter = core?._timeFilter;
  if (typeof filter?.reset === "function") filter.reset();
  else console.warn("Cannot reset the clock filter: sendspin-js internals changed");
}
