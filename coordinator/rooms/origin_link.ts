/**
 * The origin's side of a party over several machines (`serve --edges nats://...`): it
 * publishes the timeline the local workers get (the same downward frames, numbered, into a
 * JetStream stream that keeps about 6 s), answers edges' clock probes, hellos and cover
 * requests, keeps the list of rooms, and acts on what edges' listeners ask for (commands,
 * group volume). Local workers keep their pipes: NATS only ever adds rooms.
 *
 * If NATS goes away, the party plays on here; what the edges miss meanwhile is published
 * again, numbered as before, once it is back (they take what they have not seen).
 */
import { headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { DiscardPolicy, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { type DownMessage, encodeDown } from "../../protocol/ipc.ts";
import type { Logger } from "../../protocol/log.ts";
import { type NowPlaying, PARTY_COMMANDS, type PartyCommand } from "../../protocol/now_playing.ts";
import { systemClock } from "../../protocol/clock.ts";
import { FutureWindow } from "../../protocol/future_window.ts";
import { pcmDurationUs } from "../../protocol/pcm.ts";
import type { StampedChunk } from "../timeline.ts";
import type { WorkerPool } from "../worker_pool.ts";
import type { NatsTarget } from "./nats_target.ts";
import { connectNats, NatsUnavailableError } from "./nats_connection.ts";
import {
  type ControlMessage,
  type EdgeMessage,
  type Hello,
  PARTIES_SUBJECT,
  type PartyAd,
  partySubjects,
  ROOM_EXPIRY_MS,
  ROOM_REPORT_MS,
  type RoomEntry,
  roomEntryFrom,
  type RoomsMessage,
  SEQ_HEADER,
  STREAM_MAX_AGE_MS,
  STREAM_MAX_BYTES,
  TIMELINE_HEADER,
  volumeChangeFrom,
} from "./party_subjects.ts";

/** The origin's own entry in the room list. */
export const ORIGIN_ROOM_ID = "origin";
const ROOMS_THROTTLE_MS = 100;
/** How long to listen for another origin of the same party at start. */
const DUPLICATE_CHECK_MS = 1_000;

export interface OriginLinkOptions {
  target: NatsTarget;
  party: string;
  name: string;
  log: Logger;
  pool: WorkerPool;
  /** A controller on an edge sent a playback command. */
  onCommand: (command: PartyCommand, clientId: string) => void;
}

interface Published {
  seq: number;
  frame: Uint8Array;
  endUs: number;
}

export class OriginLink {
  readonly timeline = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  #nc: NatsConnection;
  #options: OriginLinkOptions;
  #subjects: ReturnType<typeof partySubjects>;
  #seq = 0;
  #connected = true;
  /** What edges may still need: everything since the last clear, until it has played. */
  #window = new FutureWindow<Published>();
  #lastEndUs = 0;
  #nowPlaying?: NowPlaying;
  #edges = new Map<string, { entry: RoomEntry; seenMs: number }>();
  /** Edge subjects that sent something that was not an edge's message. */
  #refused = new Set<string>();
  #roomsTimer?: ReturnType<typeof setTimeout>;
  #ticker: ReturnType<typeof setInterval>;

  private constructor(nc: NatsConnection, options: OriginLinkOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#subjects = partySubjects(options.party);
    this.#ticker = setInterval(() => this.#tick(), ROOM_REPORT_MS);
  }

  /** Connects, refuses a second origin of the party, and readies the stream. Throws NatsUnavailableError. */
  static async open(options: OriginLinkOptions): Promise<OriginLink> {
    const { target, party } = options;
    const nc = await connectNats(target, `sendspin origin ${party}`);
    try {
      const subjects = partySubjects(party);
      await refuseSecondOrigin(nc, subjects.hello, target, party);
      await ensureStream(nc, subjects, target, true);
      const link = new OriginLink(nc, options);
      link.#listen();
      return link;
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  }

  get address(): string {
    return this.#options.target.display;
  }

  /** A timeline chunk, and its frame as the local workers got it (encoded once). */
  chunk(chunk: StampedChunk, frame: Uint8Array): void {
    const endUs = chunk.playAtUs + pcmDurationUs(chunk.format, chunk.pcm);
    this.#lastEndUs = Math.max(this.#lastEndUs, endUs);
    this.#publishFrame(frame, endUs);
  }

  nowPlaying(nowPlaying: NowPlaying): void {
    this.#nowPlaying = nowPlaying;
    this.#publish({ type: "now-playing", nowPlaying });
  }

  /** A new cover's frame, as the local workers got it (before the now-playing naming it). */
  artwork(frame: Uint8Array): void {
    this.#publishFrame(frame, this.#lastEndUs);
  }

  /** Playback stopped (`cut`: it goes on at once): edges drop the audio ahead too. */
  stopped(cut: boolean): void {
    this.#window.clear(); // what came before is void for everyone
    this.#publish(cut ? { type: "cleared" } : { type: "stopped" });
  }

  /** A controller here set the group's volume: every edge applies it. */
  groupVolume(change: { volume?: number; muted?: boolean }, from = ORIGIN_ROOM_ID): void {
    const message: ControlMessage = { type: "group-volume", ...change, from };
    this.#publishJson(this.#subjects.control, JSON.stringify(message));
  }

  /** This room's listeners or players changed: every room hears of it (soon, once). */
  roomChanged(): void {
    this.#roomsTimer ??= setTimeout(() => {
      this.#roomsTimer = undefined;
      this.#publishRooms();
    }, ROOMS_THROTTLE_MS);
  }

  async close(): Promise<void> {
    clearInterval(this.#ticker);
    clearTimeout(this.#roomsTimer);
    await this.#nc.drain().catch(() => this.#nc.close());
  }

  #publish(message: DownMessage): void {
    this.#publishFrame(encodeDown(message), this.#lastEndUs);
  }

  /** Numbered, kept until it has played, and sent (if NATS is there now). */
  #publishFrame(frame: Uint8Array, endUs: number): void {
    const seq = ++this.#seq;
    this.#window.at(systemClock.nowUs());
    this.#window.push({ seq, frame, endUs });
    if (this.#connected) this.#send(seq, frame);
  }

  #send(seq: number, frame: Uint8Array): void {
    const h = headers();
    h.set(TIMELINE_HEADER, this.timeline);
    h.set(SEQ_HEADER, String(seq));
    try {
      this.#nc.publish(this.#subjects.timeline, frame, { headers: h });
    } catch (error) {
      this.#options.log.debug(`NATS publish failed: ${(error as Error).message}`);
    }
  }

  #publishJson(subject: string, data: string): void {
    if (!this.#connected) return;
    try {
      this.#nc.publish(subject, data);
    } catch (error) {
      this.#options.log.debug(`NATS publish failed: ${(error as Error).message}`);
    }
  }

  #listen(): void {
    const nc = this.#nc;
    const { log, party, name } = this.#options;
    const s = this.#subjects;
    // The clock first and as a callback: answered on arrival, the round trip is the bound.
    const clockHeaders = () => {
      const h = headers();
      h.set(TIMELINE_HEADER, this.timeline);
      return h;
    };
    nc.subscribe(s.clock, {
      callback: (_error, msg) => {
        const answer = new Uint8Array(8);
        new DataView(answer.buffer).setFloat64(0, systemClock.nowUs());
        msg.respond(answer, { headers: clockHeaders() });
      },
    });
    nc.subscribe(s.hello, {
      callback: (_error, msg) => {
        const hello: Hello = {
          party,
          name,
          timeline: this.timeline,
          ...(this.#nowPlaying ? { nowPlaying: this.#nowPlaying } : {}),
          artwork: [...this.#options.pool.covers.keys()],
          rooms: this.#rooms(),
        };
        msg.respond(JSON.stringify(hello));
      },
    });
    nc.subscribe(s.artwork, {
      callback: (_error, msg) => {
        msg.respond(this.#options.pool.covers.get(msg.string()) ?? new Uint8Array(0));
      },
    });
    nc.subscribe(PARTIES_SUBJECT, {
      callback: (_error, msg) => {
        msg.respond(JSON.stringify({ party, name } satisfies PartyAd));
      },
    });
    nc.subscribe(s.edges, { callback: (_error, msg) => this.#onEdge(msg) });
    (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") {
          this.#connected = false;
          log.warn(`Lost NATS at ${this.address}: edges play on from what they hold; reconnecting`);
        } else if (status.type === "reconnect") {
          log.info(`NATS at ${this.address} is back`);
          await ensureStream(nc, s, this.#options.target, false).catch((error) =>
            log.error((error as Error).message)
          );
          this.#connected = true;
          // What edges may have missed, numbered as before; they skip what they have.
          for (const item of this.#window.at(systemClock.nowUs())) {
            this.#send(item.seq, item.frame);
          }
          this.#publishRooms();
        }
      }
    })().catch(() => {});
  }

  #onEdge(msg: Msg): void {
    const { log, pool } = this.#options;
    let message: EdgeMessage | undefined;
    try {
      message = msg.json<EdgeMessage>();
    } catch {
      message = undefined;
    }
    switch (message?.type) {
      case "room": {
        const room = roomEntryFrom(message.room);
        if (!room) break;
        const known = this.#edges.get(room.id);
        if (!known) log.info(`Edge joined: ${room.name} (${room.id})`);
        const changed = !known || JSON.stringify(known.entry) !== JSON.stringify(room);
        this.#edges.set(room.id, { entry: room, seenMs: performance.now() });
        if (changed) this.#edgesChanged();
        return;
      }
      case "gone": {
        const known = this.#edges.get(String(message.id));
        if (!known) return;
        log.info(`Edge left: ${known.entry.name} (${message.id})`);
        this.#edges.delete(String(message.id));
        return this.#edgesChanged();
      }
      case "command":
        if (!PARTY_COMMANDS.includes(message.command) || typeof message.clientId !== "string") {
          break;
        }
        return this.#options.onCommand(message.command, message.clientId);
      case "group-volume": {
        const change = volumeChangeFrom(message);
        if (!change) break;
        pool.broadcastGroupVolume(change);
        return this.groupVolume(change, msg.subject.split(".").at(-1));
      }
    }
    // Once per subject: a broken or hostile edge must not flood the log.
    if (this.#refused.has(msg.subject)) return;
    this.#refused.add(msg.subject);
    log.warn(`ignored what ${msg.subject} sent: not an edge's message (said once per edge)`);
  }

  #edgesChanged(): void {
    this.#options.pool.setRemote([...this.#edges.values()].map((e) => e.entry));
    this.roomChanged();
  }

  /** Every second: edges that went quiet are gone; every room hears the list again. */
  #tick(): void {
    const nowMs = performance.now();
    for (const [id, { entry, seenMs }] of this.#edges) {
      if (nowMs - seenMs < ROOM_EXPIRY_MS) continue;
      this.#options.log.warn(`Edge ${entry.name} (${id}) stopped reporting: counted as gone`);
      this.#edges.delete(id);
      this.#edgesChanged();
    }
    this.#publishRooms();
  }

  #rooms(): RoomEntry[] {
    const origin = { id: ORIGIN_ROOM_ID, ...this.#options.pool.room() };
    return [origin, ...[...this.#edges.values()].map((e) => e.entry)];
  }

  #publishRooms(): void {
    const message: RoomsMessage = { timeline: this.timeline, rooms: this.#rooms() };
    this.#publishJson(this.#subjects.rooms, JSON.stringify(message));
  }
}

/** Another origin answering this party's hello means two would publish one timeline. */
async function refuseSecondOrigin(
  nc: NatsConnection,
  subject: string,
  target: NatsTarget,
  party: string,
): Promise<void> {
  let other: Hello | undefined;
  try {
    other = (await nc.request(subject, "", { timeout: DUPLICATE_CHECK_MS })).json<Hello>();
  } catch {
    return; // no responders, or nobody answered in time: no other origin
  }
  throw new NatsUnavailableError(
    `party ${party} already has an origin on NATS at ${target.display} ("${other?.name}"): stop it, or start this one with its own settings folder (its own server id)`,
  );
}

async function ensureStream(
  nc: NatsConnection,
  subjects: ReturnType<typeof partySubjects>,
  target: NatsTarget,
  purge: boolean,
): Promise<void> {
  const config = {
    name: subjects.stream,
    subjects: [subjects.timeline],
    storage: StorageType.Memory,
    max_age: STREAM_MAX_AGE_MS * 1_000_000, // nanoseconds
    max_bytes: STREAM_MAX_BYTES,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
  };
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    try {
      await jsm.streams.add(config);
    } catch (error) {
      if (!/already in use/i.test((error as Error).message)) throw error;
      await jsm.streams.update(config.name, config);
    }
    // A new run of the origin: what the stream kept of the last one is of no use.
    if (purge) await jsm.streams.purge(config.name);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (/jetstream (is )?not enabled|no responders|503/i.test(message)) {
      throw new NatsUnavailableError(
        `NATS at ${target.display} has no JetStream: start nats-server with -js (or "jetstream {}" in its config)`,
      );
    }
    if (/permission/i.test(message)) {
      throw new NatsUnavailableError(
        `NATS at ${target.display} does not let us manage the stream ${config.name} ($JS.API.>): ${message}`,
      );
    }
    throw new NatsUnavailableError(
      `cannot set up the party's stream on NATS at ${target.display}: ${message}`,
    );
  }
}
