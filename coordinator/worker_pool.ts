/**
 * The workers of one server: starts them, counts their listeners, answers their clock
 * probes, fans chunks out to all, replaces a worker that dies (replaying the future audio so
 * its listeners hear sound at once when they reconnect), and stops them all on shutdown.
 */
import { encodeDown, type UpMessage } from "../protocol/ipc.ts";
import type { Logger } from "../protocol/log.ts";
import { systemClock } from "../protocol/clock.ts";
import type { TrackTags } from "../protocol/tags.ts";
import type { WorkerLink } from "./worker_link.ts";

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
}

/** A worker that dies this many times within CRASH_WINDOW_MS is given up on. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];
const STOP_TIMEOUT_MS = 2_000;

interface Slot {
  link?: WorkerLink;
  port: number;
  count: number;
  /** Client messages the running process refused, and those of processes before it. */
  rejected: number;
  rejectedBefore: number;
  crashes: number[];
  /** It listened once: only such a worker is replaced when it dies. */
  listened: boolean;
  /** It crashed too often and is not replaced any more. */
  givenUp?: boolean;
  ready?: (message: UpMessage) => void;
}

export class WorkerPool {
  readonly slots: Slot[] = [];
  #options: WorkerPoolOptions;
  #stopping = false;
  #tags: TrackTags = {};
  /** Chunk frames not yet played, for workers that start late. */
  #future: { frame: Uint8Array; endUs: number }[] = [];

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
  }

  get total(): number {
    return this.slots.reduce((sum, slot) => sum + slot.count, 0);
  }

  /** Starts every worker; returns the port of the first that listens. Throws if none does. */
  async start(): Promise<{ port: number; failures: string[] }> {
    const { count, port, portPerWorker } = this.#options;
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
    this.#broadcast(this.#totalsFrame()); // every worker now knows how many there are
    return { port: firstPort, failures };
  }

  /** Sends a chunk frame to every worker and keeps it for late starters. */
  broadcastChunk(frame: Uint8Array, endUs: number): void {
    const nowUs = systemClock.nowUs();
    while (this.#future.length && this.#future[0].endUs <= nowUs) this.#future.shift();
    this.#future.push({ frame, endUs });
    this.#broadcast(frame);
  }

  broadcastStopped(): void {
    this.#future = [];
    this.#broadcast(encodeDown({ type: "stopped" }));
  }

  broadcastTags(tags: TrackTags): void {
    this.#tags = tags;
    this.#broadcast(encodeDown({ type: "metadata", tags }));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const links = this.slots.map((s) => s.link).filter((l): l is WorkerLink => !!l);
    for (const link of links) {
      link.sendFrame(encodeDown({ type: "shutdown" }));
      link.close();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((r) => timer = setTimeout(r, STOP_TIMEOUT_MS));
    await Promise.race([Promise.all(links.map((l) => l.exited)), late]);
    clearTimeout(timer);
    links.forEach((link) => link.kill());
  }

  #broadcast(frame: Uint8Array): void {
    for (const slot of this.slots) slot.link?.sendFrame(frame);
  }

  #startSlot(index: number, port: number): Promise<UpMessage> {
    const slot: Slot = this.slots[index] ?? {
      port,
      count: 0,
      rejected: 0,
      rejectedBefore: 0,
      crashes: [],
      listened: false,
    };
    this.slots[index] = slot;
    const report = new Promise<UpMessage>((resolve) => slot.ready = resolve);
    const link = this.#options.spawn(index, port, (message) => this.#onStatus(message));
    slot.link = link;
    // What a fresh worker needs to play at once: what plays, the counts, the future audio.
    link.sendFrame(encodeDown({ type: "metadata", tags: this.#tags }));
    link.sendFrame(this.#totalsFrame());
    for (const { frame } of this.#future) link.sendFrame(frame);
    link.exited.then(() => this.#onExit(index, link)).catch((error) => {
      this.#options.log.error(`worker ${index} could not be restarted: ${error?.message ?? error}`);
    });
    const gone: UpMessage = { type: "failed", worker: index, reason: "it stopped at start-up" };
    return Promise.race([report, link.exited.then(() => gone)]);
  }

  #onStatus(message: UpMessage): void {
    const slot = this.slots[message.worker];
    if (!slot) return;
    const { log } = this.#options;
    switch (message.type) {
      case "listening":
      case "failed":
        if (message.type === "listening") slot.listened = true;
        slot.ready?.(message);
        slot.ready = undefined;
        return;
      case "clock-probe":
        // Answered first thing: the probe's round trip is the calibration's error bound.
        slot.link?.sendFrame(encodeDown({
          type: "clock-answer",
          sentUs: message.sentUs,
          coordinatorUs: systemClock.nowUs(),
        }));
        return;
      case "client-joined":
      case "client-left": {
        const verb = message.type === "client-joined" ? "joined" : "left";
        const where = this.slots.length > 1 ? ` on worker ${message.worker}` : "";
        return log.info(`Client ${verb}: ${message.name} (${message.clientId})${where}`);
      }
      case "listeners":
        slot.count = message.count;
        slot.rejected = message.rejected;
        return this.#countsChanged();
      case "error":
        return log.error(`worker ${message.worker}: ${message.message}`);
    }
  }

  #countsChanged(): void {
    this.#broadcast(this.#totalsFrame());
    this.#options.onTotal(this.total);
  }

  #totalsFrame(): Uint8Array {
    const perWorker = this.slots.map((s) => s.count);
    const rejected = this.slots.reduce((sum, s) => sum + s.rejected + s.rejectedBefore, 0);
    return encodeDown({ type: "totals", total: this.total, perWorker, rejected });
  }

  async #onExit(index: number, link: WorkerLink): Promise<void> {
    const slot = this.slots[index];
    if (this.#stopping || slot.link !== link || !slot.listened) return;
    slot.link = undefined;
    slot.rejectedBefore += slot.rejected;
    slot.rejected = 0;
    if (slot.count) {
      slot.count = 0;
      this.#countsChanged();
    }
    const nowMs = performance.now();
    slot.crashes = [...slot.crashes.filter((t) => nowMs - t < CRASH_WINDOW_MS), nowMs];
    const { log } = this.#options;
    if (slot.crashes.length > MAX_CRASHES) {
      log.error(
        `worker ${index} keeps crashing (${slot.crashes.length} times in a minute): giving up on it`,
      );
      slot.givenUp = true;
      // Gone for good: given up on, or never started (a worker waiting to restart still counts).
      if (this.slots.every((s) => s.givenUp || !s.listened)) this.#options.onNoneLeft?.();
      else log.error("the other workers play on");
      return;
    }
    const delays = this.#options.restartDelaysMs ?? RESTART_DELAYS_MS;
    const delayMs = delays[Math.min(slot.crashes.length - 1, delays.length - 1)];
    log.warn(`worker ${index} stopped unexpectedly; starting a new one in ${delayMs} ms`);
    await new Promise((r) => setTimeout(r, delayMs));
    if (this.#stopping) return;
    const report = await this.#startSlot(index, slot.port);
    if (report.type === "listening") log.info(`worker ${index} is back on port ${report.port}`);
    else {log.error(
        `worker ${index} could not start again: ${report.type === "failed" ? report.reason : ""}`,
      );}
  }
}
