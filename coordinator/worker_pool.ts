/**
 * The workers of one server: starts them, counts their listeners, answers their clock
 * probes, fans chunks out to all, and stops them all on shutdown. It supervises them:
 * a worker that exits is logged with how it ended and replaced; a worker whose heartbeats
 * stop is hung, and is killed and replaced. A slow worker is never killed: its queue only
 * loses audio it could no longer use (frame_pipe.ts). A replacement is handed what plays,
 * the counts and the future audio, so its listeners hear sound at once when they reconnect.
 */
import {
  type DownMessage,
  encodeDown,
  HEARTBEAT_INTERVAL_MS,
  type RoomCount,
  type UpMessage,
} from "../protocol/ipc.ts";

/** What the workers report of clients, for the operator. */
export type ClientReport = Extract<
  UpMessage,
  { type: "client-waiting" | "client-joined" | "client-left" | "pairing" }
>;
import { Backoff } from "../protocol/backoff.ts";
import { FutureWindow } from "../protocol/future_window.ts";
import type { Logger } from "../protocol/log.ts";
import { type Clock, systemClock } from "../protocol/clock.ts";
import { sleepMs } from "../protocol/sleep.ts";
import { type NowPlaying, PARTY_COMMANDS, type PartyCommand } from "../protocol/now_playing.ts";
import type { ClientSummary } from "../protocol/client_summary.ts";
import { pcmDurationUs } from "../protocol/pcm.ts";
import type { StampedChunk } from "./timeline.ts";
import type { WorkerExit, WorkerLink } from "./worker_link.ts";

export interface WorkerPoolOptions {
  count: number;
  /** Starts worker `index` on `port`, reporting to `onStatus`. */
  spawn: (index: number, port: number, onStatus: (m: UpMessage) => void) => WorkerLink;
  /** Port of worker 0; the others use the port worker 0 got (shared) or consecutive ones. */
  port: number;
  portPerWorker: boolean;
  log: Logger;
  /** Called whenever the total number of listeners changes. */
  onTotal: (total: number) => void;
  /** Called when the last worker was given up on: nobody can connect any more. */
  onNoneLeft?: () => void;
  /** Default RESTART_DELAYS_MS; the last one repeats. */
  restartDelaysMs?: number[];
  /** Clients joining, waiting, leaving, pairing: what the workers report, for the desk. */
  onClient?: (message: ClientReport) => void;
  /** A client left, with what it said and was sent (`--summary`). */
  onClientSummary?: (summary: ClientSummary) => void;
  /** A controller client on some worker sent a playback command. */
  onCommand?: (command: PartyCommand, clientId: string) => void;
  /** A controller on some worker set the group's volume (already applied to every worker). */
  onGroupVolume?: (change: { volume?: number; muted?: boolean }) => void;
  /** This room's listeners or players changed (for the other rooms of the party). */
  onRoomChange?: () => void;
  /**
   * The party's server time, in which timestamps are, clock probes are answered and audio
   * expires; default this process's clock (an edge's is the origin's).
   */
  clock?: Clock;
  /**
   * This room's name and role when the party spans machines (and an edge's clock estimate);
   * default a party of one room.
   */
  room?: { name: string; role: RoomCount["role"]; clock?: () => RoomCount["clock"] };
}

/** The players of a room: how many, the sum of their volumes, how many are muted. */
export interface PlayerSums {
  count: number;
  volumeSum: number;
  muted: number;
}

/** What one room of the party holds, as the rooms tell each other. */
export interface RoomReport extends RoomCount {
  /** Client messages its workers refused so far. */
  rejected: number;
  players: PlayerSums;
}

/** A worker that dies this many times within CRASH_WINDOW_MS is given up on. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];
const STOP_TIMEOUT_MS = 2_000;
/**
 * Heartbeat checks without a report before a worker counts as hung: 3 s. Counted in checks,
 * not in time, so a coordinator that was itself held up (its checks late) cannot mistake
 * its own delay for the worker's.
 */
export const HUNG_AFTER_CHECKS = 6;
/** A worker that neither listens nor fails within this long after its start is stopped. */
const START_TIMEOUT_MS = 30_000;
/** Covers a new worker is handed: the one shown, the next, and a few the playlist went by. */
const KEPT_ARTWORK = 4;
/** A clock answer older than this is of no use to the worker's calibration. */
const CLOCK_ANSWER_TTL_US = 1_000_000;

interface Slot {
  link?: WorkerLink;
  port: number;
  count: number;
  /** Client messages the running process refused, and those of processes before it. */
  rejected: number;
  rejectedBefore: number;
  crashes: number[];
  restarts: Backoff;
  /** It listened once: only such a worker is replaced when it dies. */
  listened: boolean;
  /** It crashed too often and is not replaced any more. */
  givenUp?: boolean;
  /** Its players, as it last reported them. */
  players?: { count: number; volumeSum: number; muted: number };
  /** Heartbeat checks since its last report; undefined until its first report. */
  silentChecks?: number;
  /** Why the pool stopped it, if it did. */
  stoppedBecause?: string;
  ready?: (message: UpMessage) => void;
}

export class WorkerPool {
  readonly slots: Slot[] = [];
  #options: WorkerPoolOptions;
  #stopping = false;
  #nowPlaying?: NowPlaying;
  /** Chunk frames not yet played: what a worker that starts late is handed. */
  #future = new FutureWindow<{ frame: Uint8Array; endUs: number }>();
  #watchdog?: ReturnType<typeof setInterval>;
  /** Approvals since start; a worker started later is told them with its other state. */
  /** The latest approvals and pairings frames, for workers that start later. */
  #clientSets = new Map<string, Uint8Array>();
  /** The latest covers' frames by key, oldest first: what plays and what comes next. */
  #artwork = new Map<string, Uint8Array>();
  /** The party's other rooms (machines), as last reported. */
  #remote: RoomReport[] = [];
  #clock: Clock;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Listeners of this room (this machine's workers). */
  get here(): number {
    return this.slots.reduce((sum, slot) => sum + slot.count, 0);
  }

  /** This room's counts and players, for the party's other rooms. */
  room(): RoomReport {
    const { name, role, clock } = this.#options.room ?? { name: "", role: "origin" };
    const players = this.#localPlayers();
    const perWorker = this.slots.map((s) => s.count);
    const rejected = this.slots.reduce((sum, s) => sum + s.rejected + s.rejectedBefore, 0);
    const estimate = clock?.();
    return {
      name,
      role,
      total: this.here,
      perWorker,
      rejected,
      players,
      ...(estimate ? { clock: estimate } : {}),
    };
  }

  /** The party's other rooms changed: totals and players are the party's. */
  setRemote(rooms: RoomReport[]): void {
    this.#remote = rooms;
    this.#broadcast(this.#totalsFrame(), { key: "totals" });
    this.#broadcast(this.#playersFrame(), { key: "players" });
    this.#options.onTotal(this.total);
  }

  /** The party's clock moved (an edge's estimate of the origin's): workers calibrate again. */
  broadcastClockMoved(): void {
    this.#broadcast(encodeDown({ type: "clock-moved" }), { key: "clock-moved" });
  }

  /** A controller in another room set the group's volume. */
  broadcastGroupVolume(change: { volume?: number; muted?: boolean }): void {
    const { volume, muted } = change;
    this.#broadcast(encodeDown({ type: "group-volume", volume, muted }));
  }

  /** What plays, as last announced (tests compare clients' timestamps with its atUs). */
  get nowPlaying(): NowPlaying | undefined {
    return this.#nowPlaying;
  }

  /** Listeners of the whole party: this room's and the other rooms'. */
  get total(): number {
    return this.here + this.#remote.reduce((sum, room) => sum + room.total, 0);
  }

  /** Starts every worker; returns the port of the first that listens. Throws if none does. */
  async start(): Promise<{ port: number; failures: string[] }> {
    const { count, port, portPerWorker } = this.#options;
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), HEARTBEAT_INTERVAL_MS);
    const failures: string[] = [];
    let firstPort: number | undefined;
    for (let index = 0; index < count; index++) {
      // --port 0 asks the OS for a free port per worker, or for worker 0's port to share.
      const perWorker = port === 0 ? 0 : port + index;
      const wanted = index === 0 ? port : portPerWorker ? perWorker : firstPort ?? port;
      const report = await this.#startSlot(index, wanted);
      if (report.type === "listening") {
        firstPort ??= report.port;
        this.slots[index].port = report.port;
      } else {
        failures.push(report.type === "failed" ? report.reason : "it stopped");
        this.slots[index].link = undefined;
      }
    }
    if (firstPort === undefined) throw new Error(failures[0] ?? "no worker started");
    this.#broadcast(this.#totalsFrame(), { key: "totals" }); // every worker knows how many
    return { port: firstPort, failures };
  }

  /**
   * Sends a timeline chunk to every worker and keeps it for workers that start late; returns
   * its frame (encoded once, for every worker and for the edges).
   */
  broadcastChunk(chunk: StampedChunk): Uint8Array {
    const frame = encodeDown({ type: "chunk", ...chunk });
    const endUs = chunk.playAtUs + pcmDurationUs(chunk.format, chunk.pcm);
    this.#future.at(this.#clock.nowUs());
    this.#future.push({ frame, endUs });
    this.#broadcast(frame, { expiresUs: endUs });
    return frame;
  }

  /** The audio ahead was dropped, the stream goes on (next, previous). */
  broadcastCleared(): void {
    this.#future.clear();
    this.#broadcast(encodeDown({ type: "cleared" }));
  }

  broadcastStopped(): void {
    this.#future.clear();
    this.#broadcast(encodeDown({ type: "stopped" }));
  }

  /** Approvals and pairings (each the whole set) to every worker, and to later ones. */
  broadcastClients(message: Extract<DownMessage, { type: "approvals" | "pairings" }>): void {
    const frame = encodeDown(message);
    this.#clientSets.set(message.type, frame);
    this.#broadcast(frame, { key: message.type });
  }

  /** A pairing step, to the worker that holds the client's connection. */
  sendTo(worker: number, message: DownMessage): void {
    this.slots[worker]?.link?.send(encodeDown(message));
  }

  /**
   * A cover for every worker, before the now-playing that names it; kept for later workers.
   * Returns its frame, or undefined for the cover sent last (a file that loops: every worker
   * has it).
   */
  broadcastArtwork(
    image: { key: string; mime: string; bytes: Uint8Array },
  ): Uint8Array | undefined {
    if ([...this.#artwork.keys()].at(-1) === image.key) return undefined;
    const frame = encodeDown({ type: "artwork", ...image });
    this.#artwork.delete(image.key);
    this.#artwork.set(image.key, frame);
    if (this.#artwork.size > KEPT_ARTWORK) this.#artwork.delete(this.#artwork.keys().next().value!);
    this.#broadcast(frame, { key: `artwork ${image.key}` });
    return frame;
  }

  /** The covers kept, by key, oldest first, as frames: what a late worker (or edge) is handed. */
  get covers(): ReadonlyMap<string, Uint8Array> {
    return this.#artwork;
  }

  broadcastNowPlaying(nowPlaying: NowPlaying): void {
    this.#nowPlaying = nowPlaying;
    this.#broadcast(encodeDown({ type: "now-playing", nowPlaying }), { key: "now-playing" });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#watchdog);
    const links = this.slots.map((s) => s.link).filter((l): l is WorkerLink => !!l);
    for (const link of links) {
      link.send(encodeDown({ type: "shutdown" }));
      link.close();
    }
    await Promise.race([Promise.all(links.map((l) => l.exited)), sleepMs(STOP_TIMEOUT_MS)]);
    links.forEach((link) => link.kill());
  }

  #broadcast(frame: Uint8Array, options?: { expiresUs?: number; key?: string }): void {
    for (const slot of this.slots) slot.link?.send(frame, options);
  }

  #startSlot(index: number, port: number): Promise<UpMessage> {
    const slot: Slot = this.slots[index] ?? {
      port,
      count: 0,
      rejected: 0,
      rejectedBefore: 0,
      crashes: [],
      restarts: new Backoff(this.#options.restartDelaysMs ?? RESTART_DELAYS_MS),
      listened: false,
    };
    this.slots[index] = slot;
    slot.silentChecks = undefined;
    slot.stoppedBecause = undefined;
    const report = new Promise<UpMessage>((resolve) => slot.ready = resolve);
    const link = this.#options.spawn(index, port, (message) => this.#onStatus(message));
    slot.link = link;
    // The one place a worker is handed what it needs to play at once: the covers and what
    // plays, the counts and the future audio (the latter once, with the time each expires).
    for (const [key, frame] of this.#artwork) link.send(frame, { key: `artwork ${key}` });
    if (this.#nowPlaying) {
      link.send(encodeDown({ type: "now-playing", nowPlaying: this.#nowPlaying }), {
        key: "now-playing",
      });
    }
    link.send(this.#totalsFrame(), { key: "totals" });
    link.send(this.#playersFrame(), { key: "players" });
    for (const [key, frame] of this.#clientSets) link.send(frame, { key });
    for (const { frame, endUs } of this.#future.at(this.#clock.nowUs())) {
      link.send(frame, { expiresUs: endUs });
    }
    link.exited.then((exit) => this.#onExit(index, link, exit)).catch((error) => {
      this.#options.log.error(`worker ${index} could not be restarted: ${error?.message ?? error}`);
    });
    const gone: UpMessage = { type: "failed", worker: index, reason: "it stopped at start-up" };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<UpMessage>((resolve) => {
      timer = setTimeout(() => {
        link.kill();
        resolve({ type: "failed", worker: index, reason: "it did not start within 30 s" });
      }, START_TIMEOUT_MS);
    });
    return Promise.race([report, link.exited.then(() => gone), late]).finally(() =>
      clearTimeout(timer)
    );
  }

  #onStatus(message: UpMessage): void {
    const slot = this.slots[message.worker];
    if (!slot) return;
    slot.silentChecks = 0; // any report is a sign of life
    const { log } = this.#options;
    switch (message.type) {
      case "alive":
        return;
      case "listening":
      case "failed":
        if (message.type === "listening") slot.listened = true;
        slot.ready?.(message);
        slot.ready = undefined;
        return;
      case "clock-probe":
        // Answered first thing: the probe's round trip is the calibration's error bound.
        slot.link?.send(
          encodeDown({
            type: "clock-answer",
            sentUs: message.sentUs,
            coordinatorUs: this.#clock.nowUs(),
          }),
          { expiresUs: this.#clock.nowUs() + CLOCK_ANSWER_TTL_US },
        );
        return;
      case "client-waiting":
      case "pairing":
        return this.#options.onClient?.(message);
      case "client-joined":
      case "client-left": {
        this.#options.onClient?.(message);
        const where = this.slots.length > 1 ? ` on worker ${message.worker}` : "";
        if (message.type === "client-left") {
          return log.info(`Client left: ${message.name} (${message.clientId})${where}`);
        }
        // Marked, so a new client with a familiar name cannot pass for a known one.
        return log.info(
          `Client joined: ${message.name} [${message.trust}] (${message.clientId})${where}`,
        );
      }
      case "listeners":
        slot.count = message.count;
        slot.rejected = message.rejected;
        return this.#countsChanged();
      case "error":
        return log.error(`worker ${message.worker}: ${message.message}`);
      case "client-summary":
        return this.#options.onClientSummary?.(message.summary);
      case "group-volume": {
        const { volume, muted } = message;
        this.broadcastGroupVolume({ volume, muted });
        return this.#options.onGroupVolume?.({ volume, muted });
      }
      case "players": {
        const { count, volumeSum, muted } = message;
        slot.players = { count, volumeSum, muted };
        return this.#playersChanged();
      }
      case "command":
        if (!PARTY_COMMANDS.includes(message.command)) {
          return log.warn(`worker ${message.worker} sent an unknown command: ${message.command}`);
        }
        return this.#options.onCommand?.(message.command, message.clientId);
    }
  }

  /** Every HEARTBEAT_INTERVAL_MS: a running worker that stopped reporting is hung. */
  #checkHeartbeats(): void {
    for (const slot of this.slots) {
      if (!slot.link || slot.silentChecks === undefined || slot.stoppedBecause) continue;
      if (++slot.silentChecks < HUNG_AFTER_CHECKS) continue;
      const seconds = (HUNG_AFTER_CHECKS * HEARTBEAT_INTERVAL_MS) / 1000;
      slot.stoppedBecause = `it hung (no heartbeat for ${seconds} s)`;
      slot.link.kill();
    }
  }

  /** Controllers on every worker show the players of all of them, in every room. */
  #playersChanged(): void {
    this.#broadcast(this.#playersFrame(), { key: "players" });
    this.#options.onRoomChange?.();
  }

  #localPlayers(): PlayerSums {
    const reports = this.slots.map((s) => s.players).filter((p) => p !== undefined);
    return sumPlayers(reports);
  }

  #playersFrame(): Uint8Array {
    const { count, volumeSum, muted } = sumPlayers([
      this.#localPlayers(),
      ...this.#remote.map((room) => room.players),
    ]);
    const volume = count ? Math.round(volumeSum / count) : 100;
    return encodeDown({ type: "players", count, volume, muted: count > 0 && muted === count });
  }

  #countsChanged(): void {
    this.#broadcast(this.#totalsFrame(), { key: "totals" });
    this.#options.onTotal(this.total);
    this.#options.onRoomChange?.();
  }

  #totalsFrame(): Uint8Array {
    const perWorker = this.slots.map((s) => s.count);
    const rejected = this.slots.reduce((sum, s) => sum + s.rejected + s.rejectedBefore, 0) +
      this.#remote.reduce((sum, room) => sum + room.rejected, 0);
    // Every room, this one first, when the party spans machines.
    const rooms = this.#options.room
      ? [this.room(), ...this.#remote].map(({ name, role, total, perWorker, clock }) => ({
        name,
        role,
        total,
        perWorker,
        ...(clock ? { clock } : {}),
      }))
      : undefined;
    return encodeDown({
      type: "totals",
      total: this.total,
      perWorker,
      rejected,
      ...(rooms ? { rooms } : {}),
    });
  }

  async #onExit(index: number, link: WorkerLink, exit: WorkerExit): Promise<void> {
    const slot = this.slots[index];
    if (this.#stopping || slot.link !== link) return;
    const { log } = this.#options;
    const how = slot.stoppedBecause ?? describeExit(exit);
    if (!slot.listened) return; // a start-up failure: start() reports it
    slot.link = undefined;
    slot.rejectedBefore += slot.rejected;
    slot.rejected = 0;
    if (slot.count) {
      slot.count = 0;
      this.#countsChanged();
    }
    if (slot.players) {
      slot.players = undefined;
      this.#playersChanged();
    }
    const nowMs = performance.now();
    const recent = slot.crashes.filter((t) => nowMs - t < CRASH_WINDOW_MS);
    if (recent.length === 0) slot.restarts.reset(); // it ran for a while: restart quickly
    slot.crashes = [...recent, nowMs];
    if (slot.crashes.length > MAX_CRASHES) {
      log.error(
        `worker ${index} keeps crashing (${slot.crashes.length} times in a minute, last: ${how}): giving up on it`,
      );
      slot.givenUp = true;
      // Gone for good: given up on, or never started (a worker waiting to restart still counts).
      if (this.slots.every((s) => s.givenUp || !s.listened)) this.#options.onNoneLeft?.();
      else log.error("the other workers play on");
      return;
    }
    const delayMs = slot.restarts.next();
    log.warn(`worker ${index} stopped: ${how}; starting a new one in ${delayMs} ms`);
    await sleepMs(delayMs);
    if (this.#stopping) return;
    const report = await this.#startSlot(index, slot.port);
    if (report.type === "listening") log.info(`worker ${index} is back on port ${report.port}`);
    else {log.error(
        `worker ${index} could not start again: ${report.type === "failed" ? report.reason : ""}`,
      );}
  }
}

function sumPlayers(reports: PlayerSums[]): PlayerSums {
  return {
    count: reports.reduce((sum, p) => sum + p.count, 0),
    volumeSum: reports.reduce((sum, p) => sum + p.volumeSum, 0),
    muted: reports.reduce((sum, p) => sum + p.muted, 0),
  };
}

/** "exit code 1, last words: ..." or "killed by SIGKILL". */
export function describeExit(exit: WorkerExit): string {
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code ?? "unknown"}`;
  return exit.lastLine ? `${how}; its last line: ${exit.lastLine}` : how;
}
