/**
 * How the rooms of one party talk over NATS: the subjects, named for the party's id (the
 * origin's short server id), the JetStream stream that keeps the last seconds of the
 * timeline for a newcomer, the headers every timeline message carries, and the JSON the
 * rooms exchange. The origin and `sendspin edge` both take these from here.
 *
 *   sendspin.parties                 request: which parties does this NATS server carry?
 *   sendspin.party.ID.timeline       origin → edges: chunks, now-playing, covers, cleared,
 *                                    stopped (the downward IPC frames, in order); JetStream
 *   sendspin.party.ID.hello          request: the origin's timeline id and present state
 *   sendspin.party.ID.artwork        request: one cover's frame by key
 *   sendspin.party.ID.clock          request: the origin's clock (fastest of N wins)
 *   sendspin.party.ID.rooms          origin → edges: every room's counts and players
 *   sendspin.party.ID.control        origin → edges: group volume set anywhere
 *   sendspin.party.ID.edge.EDGE      edge → origin: its counts, commands, group volume
 */
import type { NowPlaying, PartyCommand } from "../../protocol/now_playing.ts";
import type { RoomReport } from "../worker_pool.ts";

export const PARTIES_SUBJECT = "sendspin.parties";

export function partySubjects(party: string) {
  const base = `sendspin.party.${party}`;
  return {
    all: `${base}.>`,
    timeline: `${base}.timeline`,
    hello: `${base}.hello`,
    artwork: `${base}.artwork`,
    clock: `${base}.clock`,
    rooms: `${base}.rooms`,
    control: `${base}.control`,
    edges: `${base}.edge.*`,
    edge: (edge: string) => `${base}.edge.${edge}`,
    /** JetStream names may not hold dots. */
    stream: `SENDSPIN_${party.replace(/[^A-Za-z0-9_-]/g, "_")}`,
  };
}

/** A party id or edge id is one subject token: no dots, wildcards or spaces. */
export function isSubjectToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(value);
}

/** Headers of a timeline message: which run of the origin, and its place in that run. */
export const TIMELINE_HEADER = "Sendspin-Timeline";
export const SEQ_HEADER = "Sendspin-Seq";

/**
 * The stream keeps about 6 s: the timeline runs at most 5 s ahead, so a newcomer finds all
 * the future audio there, and a little of the past to spare.
 */
export const STREAM_MAX_AGE_MS = 6_000;
/** Memory only (a Pi's SD card is not written 20 times a second); bounded besides. */
export const STREAM_MAX_BYTES = 64 * 1024 * 1024;

/** The answer to `sendspin.parties`. */
export interface PartyAd {
  party: string;
  name: string;
}

/** The answer to `hello`: enough for an edge to play from the next timeline message on. */
export interface Hello {
  party: string;
  name: string;
  /** A new one each time the origin starts: timestamps before it mean nothing after. */
  timeline: string;
  nowPlaying?: NowPlaying;
  /** Covers the origin holds, oldest first (fetch each with `artwork`). */
  artwork: string[];
  rooms: RoomEntry[];
}

/** A room as the rooms see each other: its report, under its id. */
export interface RoomEntry extends RoomReport {
  id: string;
}

/** What an edge says to the origin. */
export type EdgeMessage =
  /** Every second and whenever its counts change; an edge silent for ROOM_EXPIRY_MS is gone. */
  | { type: "room"; room: RoomEntry; clock?: ClockReport }
  | { type: "gone"; id: string }
  | { type: "command"; command: PartyCommand; clientId: string }
  | { type: "group-volume"; volume?: number; muted?: boolean };

/** An edge's clock estimate, for the origin's log and everyone's status. */
export interface ClockReport {
  /** How far off the estimate may be (half the spread of recent best offsets), µs. */
  errorUs: number;
  /** The fastest round trip to the origin recently, µs. */
  roundTripUs: number;
}

/** What the origin sends on `rooms`. */
export interface RoomsMessage {
  timeline: string;
  rooms: RoomEntry[];
}

/** What the origin sends on `control`; `from`: the room whose controller set it. */
export type ControlMessage = {
  type: "group-volume";
  volume?: number;
  muted?: boolean;
  from: string;
};

export const ROOM_REPORT_MS = 1_000;
/** An edge that has not reported for this long is gone (crashed, or cut off). */
export const ROOM_EXPIRY_MS = 5_000;

const MAX_WORKERS_REPORTED = 64;
const MAX_NAME_LENGTH = 200;

/**
 * An edge's room report as it came over NATS, checked field by field and copied (nothing
 * else of what it sent goes on); undefined if it is not one.
 */
export function roomEntryFrom(value: unknown): RoomEntry | undefined {
  const room = value as Partial<Record<keyof RoomEntry, unknown>> | undefined;
  const count = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  const players = room?.players as Record<string, unknown> | undefined;
  const clock = room?.clock as Record<string, unknown> | null | undefined;
  const ok = typeof room?.id === "string" && isSubjectToken(room.id) &&
    typeof room.name === "string" && room.name.length <= MAX_NAME_LENGTH &&
    count(room.total) && count(room.rejected) && Array.isArray(room.perWorker) &&
    room.perWorker.length <= MAX_WORKERS_REPORTED && room.perWorker.every(count) &&
    count(players?.count) && count(players?.muted) && Number.isFinite(players?.volumeSum);
  if (!ok) return undefined;
  const micros = (x: unknown) => typeof x === "number" && x >= 0 ? x : Infinity; // null: none yet
  return {
    id: room.id as string,
    name: room.name as string,
    role: "edge",
    total: room.total as number,
    perWorker: [...room.perWorker as number[]],
    rejected: room.rejected as number,
    players: {
      count: players!.count as number,
      volumeSum: players!.volumeSum as number,
      muted: players!.muted as number,
    },
    ...(clock
      ? { clock: { errorUs: micros(clock.errorUs), roundTripUs: micros(clock.roundTripUs) } }
      : {}),
  };
}

/** A group volume as it came over NATS: 0-100 and a mute flag, each optional. */
export function volumeChangeFrom(value: unknown): { volume?: number; muted?: boolean } | undefined {
  const change = value as { volume?: unknown; muted?: unknown } | undefined;
  const volume = change?.volume;
  const muted = change?.muted;
  if (
    volume !== undefined &&
    !(Number.isInteger(volume) && (volume as number) >= 0 && (volume as number) <= 100)
  ) {
    return undefined;
  }
  if (muted !== undefined && typeof muted !== "boolean") return undefined;
  if (volume === undefined && muted === undefined) return undefined;
  return {
    ...(volume !== undefined ? { volume: volume as number } : {}),
    ...(muted !== undefined ? { muted: muted as boolean } : {}),
  };
}
