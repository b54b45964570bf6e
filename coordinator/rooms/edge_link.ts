/**
 * An edge's side of the party (`sendspin edge nats://...`): finds the party on NATS, keeps
 * the origin's clock (origin_clock.ts), and feeds this machine's workers the origin's
 * timeline: the present state from the origin's hello, then the stream's last seconds (the
 * future audio, at once), then every message as it is published, each taken once and in
 * order (timeline_order.ts). It tells the origin this room's counts, and passes on what its
 * listeners' controllers ask for.
 *
 * Faults: NATS away, the workers play on from the future audio they hold and the edge
 * catches up from the stream once it is back; the origin restarted (a new timeline id), the
 * listeners here get a clean new stream on an unbroken clock.
 */
import {
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  PermissionViolationError,
} from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { decodeDown, type DownMessage } from "../../protocol/ipc.ts";
import type { Logger } from "../../protocol/log.ts";
import type { PartyCommand } from "../../protocol/now_playing.ts";
import { sleepMs } from "../../protocol/sleep.ts";
import { localNowUs } from "../../protocol/clock.ts";
import type { WorkerPool } from "../worker_pool.ts";
import type { NatsTarget } from "./nats_target.ts";
import { connectNats, NatsUnavailableError } from "./nats_connection.ts";
import { CLOCK_BOUND_US, OriginClock } from "./origin_clock.ts";
import { TimelineOrder } from "./timeline_order.ts";
import {
  type ClockReport,
  type ControlMessage,
  type EdgeMessage,
  type Hello,
  PARTIES_SUBJECT,
  type PartyAd,
  partySubjects,
  ROOM_REPORT_MS,
  type RoomsMessage,
  SEQ_HEADER,
  TIMELINE_HEADER,
} from "./party_subjects.ts";

const REQUEST_TIMEOUT_MS = 2_000;
/** Bursts before the workers start: the first alone can be a few hundred µs off. */
const STARTING_BURSTS = 3;
/** Workers calibrate again when the estimate moves by more than this. */
const MOVED_US = 50;
const FIND_PARTY_WAIT_MS = 500;
/** Bursts come every second at first, then every CLOCK_RECHECK_MS. */
const FIRST_BURSTS = 4;
const CLOCK_RECHECK_MS = 5_000;
const ROOM_THROTTLE_MS = 100;

interface Heard {
  headers?: MsgHdrs;
  data: Uint8Array;
}

export interface EdgeLinkOptions {
  target: NatsTarget;
  /** The party to join (--party); default the only one on this NATS server. */
  party?: string;
  /** This edge's id among the rooms (its own short server id). */
  id: string;
  /** The party's time here, which this link keeps on the origin's. */
  clock: OriginClock;
  log: Logger;
  signal: AbortSignal;
}

export class EdgeLink {
  readonly clock: OriginClock;
  readonly hello: Hello;
  #nc: NatsConnection;
  #options: EdgeLinkOptions;
  #subjects: ReturnType<typeof partySubjects>;
  #order = new TimelineOrder();
  #pool?: WorkerPool;
  #name = "";
  #held: Heard[] = [];
  #catchingUp = false;
  #roomTimer?: ReturnType<typeof setTimeout>;
  #timers: ReturnType<typeof setInterval>[] = [];
  #clockWarned = false;
  /** The origin's segment of the last chunk, and this room's, which also changes after a gap. */
  #originSegment = -1;
  #segment = 0;
  #discontinuous = false;
  /** The offset (party time minus ours) the workers last calibrated to. */
  #toldOffsetUs = 0;
  #originSilent = false;

  private constructor(nc: NatsConnection, hello: Hello, options: EdgeLinkOptions) {
    this.#nc = nc;
    this.hello = hello;
    this.#options = options;
    this.clock = options.clock;
    this.#subjects = partySubjects(hello.party);
    this.#order.reset(hello.timeline);
  }

  /**
   * Connects, finds the party (waiting for its origin if it has not started yet) and sets the
   * clock. Throws NatsUnavailableError for a NATS server that cannot be used.
   */
  static async open(options: EdgeLinkOptions): Promise<EdgeLink | undefined> {
    const { target, log, signal } = options;
    const nc = await connectNats(target, `sendspin edge ${options.id}`);
    try {
      let hello: Hello | undefined;
      let said = false;
      while (!signal.aborted && !hello) {
        const party = options.party ?? await findParty(nc, target);
        hello = party ? await requestHello(nc, party, target) : undefined;
        if (hello || signal.aborted) break;
        if (!said) {
          log.info(
            options.party
              ? `Waiting for the origin of party ${options.party} on NATS at ${target.display}...`
              : `Waiting for a party on NATS at ${target.display} (start sendspin serve --edges there)...`,
          );
          said = true;
        }
        await sleepMs(1_000, signal);
      }
      if (!hello) {
        await nc.close();
        return undefined;
      }
      const link = new EdgeLink(nc, hello, options);
      await link.#syncClock();
      return link;
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  }

  get partyName(): string {
    return this.hello.name;
  }

  /** How good the clock is, for status and the origin. */
  clockReport(): ClockReport {
    return { errorUs: this.clock.errorUs, roundTripUs: this.clock.roundTripUs };
  }

  /** Starts feeding `pool` (started on this link's clock) and reporting this room as `name`. */
  async attach(pool: WorkerPool, name: string): Promise<void> {
    this.#pool = pool;
    this.#name = name;
    const nc = this.#nc;
    const s = this.#subjects;
    this.#catchingUp = true;
    nc.subscribe(s.timeline, { callback: (_e, msg) => this.#onLive(msg) });
    nc.subscribe(s.rooms, { callback: (_e, msg) => this.#onRooms(msg) });
    nc.subscribe(s.control, { callback: (_e, msg) => this.#onControl(msg) });
    await this.#applyHello(this.hello);
    await this.#catchUp();
    this.#timers.push(setInterval(() => this.#report(), ROOM_REPORT_MS));
    this.#report();
    this.#runClock();
    this.#watchConnection();
  }

  /** A controller here asked the party to play, pause, skip... */
  command(command: PartyCommand, clientId: string): void {
    this.#send({ type: "command", command, clientId });
  }

  /** A controller here set the group's volume (already applied here). */
  groupVolume(change: { volume?: number; muted?: boolean }): void {
    this.#send({ type: "group-volume", ...change });
  }

  /** This room's listeners or players changed. */
  roomChanged(): void {
    this.#roomTimer ??= setTimeout(() => {
      this.#roomTimer = undefined;
      this.#report();
    }, ROOM_THROTTLE_MS);
  }

  async close(): Promise<void> {
    this.#timers.forEach((timer) => clearInterval(timer));
    clearTimeout(this.#roomTimer);
    this.#send({ type: "gone", id: this.#options.id });
    await this.#nc.drain().catch(() => this.#nc.close());
  }

  #send(message: EdgeMessage): void {
    try {
      this.#nc.publish(this.#subjects.edge(this.#options.id), JSON.stringify(message));
    } catch (error) {
      this.#options.log.debug(`NATS publish failed: ${(error as Error).message}`);
    }
  }

  #report(): void {
    if (!this.#pool) return;
    const room = { id: this.#options.id, ...this.#pool.room(), name: this.#name };
    this.#send({ type: "room", room, clock: this.clockReport() });
  }

  #probe = async () => {
    const reply = await this.#nc.request(this.#subjects.clock, undefined, {
      timeout: REQUEST_TIMEOUT_MS,
    });
    const view = new DataView(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength);
    return { originUs: view.getFloat64(0), timeline: reply.headers?.get(TIMELINE_HEADER) ?? "" };
  };

  /** Bursts until the first estimates hold (the origin answers). */
  async #syncClock(): Promise<void> {
    const { signal } = this.#options;
    let bursts = 0;
    while (!signal.aborted && (!this.clock.synced || bursts < STARTING_BURSTS)) {
      const result = await this.clock.burst(this.#probe, this.#order.timeline!, signal);
      if (result.answered === 0 && result.timeline !== this.#order.timeline) {
        // The origin restarted between its hello and our probes: start from its new run.
        const hello = await requestHello(this.#nc, this.hello.party);
        if (hello) {
          Object.assign(this.hello, hello);
          this.#order.reset(hello.timeline);
        }
      }
      if (result.answered) bursts++;
      if (!this.clock.synced) await sleepMs(250, signal);
    }
    this.#toldOffsetUs = this.clock.nowUs() - localNowUs();
  }

  /** The workers calibrate again if the estimate moved. */
  #clockMoved(): void {
    const offsetUs = this.clock.nowUs() - localNowUs();
    if (Math.abs(offsetUs - this.#toldOffsetUs) <= MOVED_US) return;
    this.#toldOffsetUs = offsetUs;
    this.#pool?.broadcastClockMoved();
  }

  async #runClock(): Promise<void> {
    const { signal, log } = this.#options;
    let bursts = 1;
    while (!signal.aborted) {
      await sleepMs(bursts < FIRST_BURSTS ? 1_000 : CLOCK_RECHECK_MS, signal);
      if (signal.aborted || this.#catchingUp) continue;
      const result = await this.clock.burst(this.#probe, this.#order.timeline!, signal);
      bursts++;
      if (this.#catchingUp) continue; // a new timeline began meanwhile: its own bursts decide
      if (result.answered === 0) {
        if (result.timeline !== this.#order.timeline && result.timeline) {
          await this.#newTimeline(result.timeline);
          bursts = 1;
        } else if (!this.#originSilent) {
          this.#originSilent = true;
          log.warn("The origin does not answer: playing on from the audio held here");
        }
        continue;
      }
      if (this.#originSilent) {
        this.#originSilent = false;
        log.info("The origin answers again");
      }
      this.#clockMoved();
      this.#checkBound(bursts);
    }
  }

  #checkBound(bursts: number): void {
    if (bursts < FIRST_BURSTS) return;
    const { log } = this.#options;
    const ms = (us: number) => (us / 1000).toFixed(2);
    if (!this.clock.withinBound && !this.#clockWarned) {
      this.#clockWarned = true;
      log.warn(
        `Clock: the origin's time is known here to within ${ms(this.clock.errorUs)} ms, not the ${
          ms(CLOCK_BOUND_US)
        } ms bound (fastest round trip over NATS ${
          ms(this.clock.roundTripUs)
        } ms): playing on, but this room may be heard that far from the others`,
      );
    } else if (this.clock.withinBound && this.#clockWarned) {
      this.#clockWarned = false;
      log.info(`Clock: within ${ms(this.clock.errorUs)} ms of the origin's again`);
    }
  }

  #watchConnection(): void {
    const { log, target } = this.#options;
    (async () => {
      for await (const status of this.#nc.status()) {
        if (status.type === "disconnect") {
          log.warn(
            `Lost NATS at ${target.display}: playing on from the audio held here; reconnecting`,
          );
        } else if (status.type === "reconnect") {
          log.info(`NATS at ${target.display} is back: catching up`);
          if (!this.#catchingUp) {
            this.#catchingUp = true;
            await this.#catchUp();
          }
        }
      }
    })().catch(() => {});
  }

  #onLive(msg: Msg): void {
    const heard = { headers: msg.headers, data: msg.data };
    if (this.#catchingUp) {
      this.#held.push(heard);
      return;
    }
    const verdict = this.#judge(heard);
    if (verdict === "gap") {
      this.#held.push(heard);
      this.#catchingUp = true;
      this.#catchUp();
    } else if (verdict === "new-timeline") {
      this.#held.push(heard);
      this.#newTimeline(heard.headers!.get(TIMELINE_HEADER));
    } else if (verdict === "take") this.#take(heard);
  }

  #judge(heard: Heard) {
    const timeline = heard.headers?.get(TIMELINE_HEADER) ?? "";
    const seq = Number(heard.headers?.get(SEQ_HEADER));
    if (!timeline || !Number.isSafeInteger(seq)) return "seen" as const; // not ours: ignored
    return this.#order.judge(timeline, seq);
  }

  #take(heard: Heard): void {
    this.#order.took(Number(heard.headers!.get(SEQ_HEADER)));
    let message: DownMessage;
    try {
      message = decodeDown(heard.data);
    } catch (error) {
      return this.#options.log.warn(
        `a timeline message could not be read: ${(error as Error).message}`,
      );
    }
    this.#forward(message);
  }

  /** Onward to this room's workers, its timestamps in the party's time here. */
  #forward(message: DownMessage): void {
    const pool = this.#pool!;
    switch (message.type) {
      case "chunk":
        if (message.segment !== this.#originSegment || this.#discontinuous) this.#segment++;
        this.#originSegment = message.segment;
        this.#discontinuous = false;
        pool.broadcastChunk({
          segment: this.#segment,
          playAtUs: this.clock.toParty(message.playAtUs),
          format: message.format,
          pcm: message.pcm,
        });
        return;
      case "now-playing":
        return pool.broadcastNowPlaying({
          ...message.nowPlaying,
          atUs: this.clock.toParty(message.nowPlaying.atUs),
        });
      case "artwork":
        pool.broadcastArtwork(message);
        return;
      case "cleared":
        return pool.broadcastCleared();
      case "stopped":
        return pool.broadcastStopped();
      default:
        return; // nothing else travels on the timeline
    }
  }

  /**
   * Takes what the stream holds that we have not taken, then what was heard meanwhile; a
   * gap the stream cannot fill (it was published while NATS was away and never re-published)
   * is passed over with one line.
   */
  async #catchUp(): Promise<void> {
    try {
      for (const heard of await this.#readStream()) {
        if (this.#judge(heard) !== "new-timeline") this.#takeOverGap(heard);
      }
    } catch (error) {
      this.#options.log.warn(`catching up from the stream failed: ${(error as Error).message}`);
    }
    const held = this.#held;
    this.#held = [];
    this.#catchingUp = false;
    for (const heard of held) {
      const verdict = this.#judge(heard);
      if (verdict === "new-timeline") {
        this.#held.push(heard, ...held.slice(held.indexOf(heard) + 1));
        return this.#newTimeline(heard.headers!.get(TIMELINE_HEADER));
      }
      this.#takeOverGap(heard);
    }
  }

  /**
   * Takes `heard` unless already taken, passing over a gap before it with one line: the
   * audio after a gap starts a segment of its own on this room's workers, which count a
   * segment's time from its first chunk (else the audio after the gap would play early).
   */
  #takeOverGap(heard: Heard): void {
    const verdict = this.#judge(heard);
    if (verdict === "seen") return;
    if (verdict === "gap") {
      const missed = Number(heard.headers!.get(SEQ_HEADER)) - (this.#order.lastSeq ?? 0) - 1;
      this.#options.log.warn(`${missed} timeline messages were lost while NATS was away`);
      this.#discontinuous = true;
    }
    this.#take(heard);
  }

  /** Everything the stream holds now, oldest first. */
  async #readStream(): Promise<Heard[]> {
    const nc = this.#nc;
    const stream = this.#subjects.stream;
    const jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT_MS });
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    const consumer = await jetstream(nc).consumers.get(stream, {
      deliver_policy: DeliverPolicy.All,
    });
    const out: Heard[] = [];
    const messages = await consumer.fetch({
      max_messages: info.state.messages + 16,
      expires: REQUEST_TIMEOUT_MS,
    });
    for await (const m of messages) {
      out.push({ headers: m.headers, data: m.data });
      if (m.seq >= info.state.last_seq) break;
    }
    messages.stop();
    await consumer.delete().catch(() => {});
    return out;
  }

  /** The origin restarted: a clean new stream here, on an unbroken clock. */
  async #newTimeline(timeline: string | undefined): Promise<void> {
    if (!timeline || timeline === this.#order.timeline) return;
    const { log, signal } = this.#options;
    log.info("The origin restarted: a new timeline, so listeners here get a new stream");
    this.#catchingUp = true;
    this.#pool?.broadcastStopped();
    this.#order.reset(timeline);
    this.clock.newOrigin();
    while (!signal.aborted && !this.clock.synced) {
      await this.clock.burst(this.#probe, timeline, signal);
      if (!this.clock.synced) await sleepMs(250, signal);
    }
    const hello = await requestHello(this.#nc, this.hello.party);
    if (hello && hello.timeline === timeline) {
      Object.assign(this.hello, hello);
      await this.#applyHello(hello);
    }
    await this.#catchUp();
  }

  /** The covers and what plays, before any audio. */
  async #applyHello(hello: Hello): Promise<void> {
    const pool = this.#pool!;
    for (const key of hello.artwork) {
      try {
        const reply = await this.#nc.request(this.#subjects.artwork, key, {
          timeout: REQUEST_TIMEOUT_MS,
        });
        if (reply.data.byteLength) {
          const message = decodeDown(reply.data);
          if (message.type === "artwork") pool.broadcastArtwork(message);
        }
      } catch (error) {
        this.#options.log.debug(`cover ${key} not fetched: ${(error as Error).message}`);
      }
    }
    if (hello.nowPlaying) {
      pool.broadcastNowPlaying({
        ...hello.nowPlaying,
        atUs: this.clock.toParty(hello.nowPlaying.atUs),
      });
    }
    this.#setRooms(hello.rooms);
  }

  #onRooms(msg: Msg): void {
    try {
      const message = msg.json<RoomsMessage>();
      if (message.timeline === this.#order.timeline) this.#setRooms(message.rooms);
    } catch {
      // not ours
    }
  }

  #setRooms(rooms: Hello["rooms"]): void {
    this.#pool?.setRemote(rooms.filter((room) => room.id !== this.#options.id));
  }

  #onControl(msg: Msg): void {
    try {
      const message = msg.json<ControlMessage>();
      if (message.type === "group-volume" && message.from !== this.#options.id) {
        this.#pool?.broadcastGroupVolume({ volume: message.volume, muted: message.muted });
      }
    } catch {
      // not ours
    }
  }
}

/** The one party on this NATS server; with several, the user must choose (--party). */
async function findParty(nc: NatsConnection, target: NatsTarget): Promise<string | undefined> {
  const found: PartyAd[] = [];
  try {
    const replies = await nc.requestMany(PARTIES_SUBJECT, undefined, {
      strategy: "timer",
      maxWait: FIND_PARTY_WAIT_MS,
    });
    for await (const reply of replies) {
      try {
        found.push(reply.json<PartyAd>());
      } catch {
        // not a party's answer
      }
    }
  } catch (error) {
    refuseIfForbidden(error, target);
    return undefined; // nobody answers yet
  }
  if (found.length > 1) {
    const list = found.map((p) => `${p.party} ("${p.name}")`).join(", ");
    throw new NatsUnavailableError(
      `NATS at ${target.display} carries ${found.length} parties: choose one with --party (${list})`,
    );
  }
  return found[0]?.party;
}

async function requestHello(
  nc: NatsConnection,
  party: string,
  target?: NatsTarget,
): Promise<Hello | undefined> {
  try {
    const reply = await nc.request(partySubjects(party).hello, "", { timeout: REQUEST_TIMEOUT_MS });
    return reply.json<Hello>();
  } catch (error) {
    if (target) refuseIfForbidden(error, target);
    return undefined;
  }
}

/** Credentials that may not use the party's subjects will not start to, later: say so. */
function refuseIfForbidden(error: unknown, target: NatsTarget): void {
  const message = (error as Error)?.message ?? "";
  if (error instanceof PermissionViolationError || /permission/i.test(message)) {
    throw new NatsUnavailableError(
      `NATS at ${target.display} does not let ${
        target.credentials ?? "us (no credentials)"
      } use the party's subjects (${message}): give the edge's credentials (README, Several rooms)`,
    );
  }
}
