/**
 * Sendspin JSON messages as the published client (sendspin-js 3.2.1) speaks them.
 * Client messages are validated here, once, at the edge; deeper code trusts their shape.
 */
import {
  type ArtworkChannel,
  type ArtworkChannelChange,
  parseArtworkChange,
  parseLegacyArtworkSupport,
} from "./artwork_messages.ts";
import type { PairOffer } from "./pairing/methods.ts";

export type Codec = "pcm" | "flac" | "opus";

export interface AudioFormat {
  codec: Codec;
  sample_rate: number;
  channels: number;
  bit_depth: number;
}

export interface PlayerSupport {
  supported_formats: AudioFormat[];
  buffer_capacity: number;
  supported_commands: string[];
}

export interface ClientHello {
  /** Legacy: what the client says; encrypted: its authenticated static key (base64url). */
  client_id: string;
  name: string;
  version: number;
  supported_roles: string[];
  player_support?: PlayerSupport;
  /** Legacy dialect: the artwork channels from `artwork@v1_support` (sizes are maxima). */
  artwork_support?: ArtworkChannel[];
  /** Encrypted dialect: whether the client plays for a server it is not paired with. */
  unpaired_access?: boolean;
  /** Encrypted dialect: the pairing methods it offers (`supported_pair_methods`). */
  pair_offer?: PairOffer;
}

export type PlayerStateName = "synchronized" | "error" | "external_source";

/** A `client/state` player snapshot or delta; both wire shapes end up here. */
export interface PlayerStateUpdate {
  state?: PlayerStateName;
  volume?: number;
  muted?: boolean;
  /** Encrypted dialect: the format the player prefers now (replaces stream/request-format). */
  format?: AudioFormat;
  /** Encrypted dialect: delay after the audio port (speakers, AVR) the player compensates. */
  output_delay_ms?: number;
  /** Encrypted dialect: the least buffer it wants at a stream's start. */
  min_buffer_ms?: number;
}

export type GoodbyeReason = "another_server" | "shutdown" | "restart" | "user_request";

export type ClientMessage =
  | { type: "client/hello"; hello: ClientHello }
  | { type: "client/time"; clientTransmittedUs: number }
  /** `available` is the encrypted dialect's: false means another system has the player. */
  | {
    type: "client/state";
    player: PlayerStateUpdate;
    available?: boolean;
    /** Encrypted dialect: every artwork channel the client wants now (sizes are exact). */
    artwork?: ArtworkChannel[];
  }
  /** Encrypted dialect: the client leaves its group without closing (as `available: false`). */
  | { type: "client/leave" }
  | { type: "client/command"; command: string; volume?: number; mute?: boolean }
  /** `request` is empty when only `artwork` (legacy: one artwork channel's change) is asked. */
  | { type: "stream/request-format"; request: Partial<AudioFormat>; artwork?: ArtworkChannelChange }
  | { type: "client/goodbye"; reason: string };

/** A message we could not accept; `reason` names what was wrong and the value seen. */
export class InvalidMessageError extends TypeError {}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function fail(what: string, value: unknown): never {
  throw new InvalidMessageError(`${what} (got ${describeValue(value)})`);
}

/** A short description of any value, without walking into it (a hostile message may nest deep). */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "string") return JSON.stringify(value.slice(0, 60));
  return String(value);
}

export function str(obj: Json, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== "string" || value.length > 1024) {
    fail(`${where}.${key} must be a string`, value);
  }
  return value;
}

export function finite(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(`${what} must be a number`, value);
  return value;
}

const CODECS: readonly string[] = ["pcm", "flac", "opus"];

export function parseFormat(value: unknown): AudioFormat | undefined {
  if (!isObject(value) || !CODECS.includes(value.codec as string)) return undefined;
  const { sample_rate, channels, bit_depth } = value;
  if (!Number.isInteger(sample_rate) || !Number.isInteger(channels)) return undefined;
  return {
    codec: value.codec as Codec,
    sample_rate: sample_rate as number,
    channels: channels as number,
    bit_depth: Number.isInteger(bit_depth) ? bit_depth as number : 16,
  };
}

export function parsePlayerSupport(value: unknown): PlayerSupport | undefined {
  if (!isObject(value)) return undefined;
  const formats = Array.isArray(value.supported_formats) ? value.supported_formats : [];
  const capacity = value.buffer_capacity;
  return {
    // Unknown codecs are skipped, not fatal: a newer client may list more than we know.
    supported_formats: formats.slice(0, 64).map(parseFormat).filter((f) => f !== undefined),
    buffer_capacity: typeof capacity === "number" && capacity > 0 ? capacity : Infinity,
    supported_commands: Array.isArray(value.supported_commands)
      ? value.supported_commands.filter((c): c is string => typeof c === "string")
      : [],
  };
}

function parseHello(p: Json): ClientHello {
  const roles = p.supported_roles;
  if (!Array.isArray(roles) || roles.some((r) => typeof r !== "string")) {
    fail("client/hello supported_roles must be a list of strings", roles);
  }
  const hello: ClientHello = {
    client_id: str(p, "client_id", "client/hello"),
    name: typeof p.name === "string" ? p.name.slice(0, 200) : "",
    version: finite(p.version ?? 1, "client/hello version"),
    supported_roles: roles.slice(0, 32),
    player_support: parsePlayerSupport(p["player@v1_support"]),
  };
  const artwork = roles.includes("artwork@v1")
    ? parseLegacyArtworkSupport(p["artwork@v1_support"])
    : undefined;
  if (artwork) hello.artwork_support = artwork;
  return hello;
}

const PLAYER_STATES: readonly string[] = ["synchronized", "error", "external_source"];

/** sendspin-js 3.2.1 puts `state` inside `player`; the spec has it at the top: accept both. */
function parseState(p: Json): PlayerStateUpdate {
  const player = isObject(p.player) ? p.player : {};
  const update: PlayerStateUpdate = {};
  const state = player.state ?? p.state;
  if (typeof state === "string" && PLAYER_STATES.includes(state)) {
    update.state = state as PlayerStateName;
  }
  if (typeof player.volume === "number" && Number.isFinite(player.volume)) {
    update.volume = Math.min(100, Math.max(0, Math.round(player.volume)));
  }
  if (typeof player.muted === "boolean") update.muted = player.muted;
  return update;
}

export function parseCommand(p: Json): ClientMessage {
  const c = p.controller;
  if (!isObject(c)) fail("client/command needs a controller object", c);
  const command = str(c, "command", "client/command controller");
  const message: ClientMessage = { type: "client/command", command };
  if (c.volume !== undefined) {
    message.volume = Math.min(100, Math.max(0, Math.round(finite(c.volume, "volume"))));
  }
  if (c.mute !== undefined) {
    if (typeof c.mute !== "boolean") fail("client/command mute must be true or false", c.mute);
    message.mute = c.mute;
  }
  return message;
}

function parseRequestFormat(p: Json): ClientMessage {
  const player = isObject(p.player) ? p.player : {};
  const request: Partial<AudioFormat> = {};
  if (typeof player.codec === "string") {
    if (!CODECS.includes(player.codec)) {
      fail("stream/request-format codec is unknown", player.codec);
    }
    request.codec = player.codec as Codec;
  }
  for (const key of ["sample_rate", "channels", "bit_depth"] as const) {
    const value = player[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || (value as number) <= 0) {
      fail(`stream/request-format ${key} must be a positive whole number`, value);
    }
    request[key] = value as number;
  }
  const artwork = parseArtworkChange(p.artwork);
  return artwork
    ? { type: "stream/request-format", request, artwork }
    : { type: "stream/request-format", request };
}

/** Parses one text frame from a client. Throws InvalidMessageError; unknown types too. */
export function parseClientMessage(text: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    fail("message is not JSON", text.slice(0, 40));
  }
  if (!isObject(message) || typeof message.type !== "string") {
    fail("message must be an object with a string type", message);
  }
  const payload = isObject(message.payload) ? message.payload : {};
  switch (message.type) {
    case "client/hello":
      return { type: "client/hello", hello: parseHello(payload) };
    case "client/time":
      return {
        type: "client/time",
        clientTransmittedUs: finite(payload.client_transmitted, "client_transmitted"),
      };
    case "client/state":
      return { type: "client/state", player: parseState(payload) };
    case "client/command":
      return parseCommand(payload);
    case "stream/request-format":
      return parseRequestFormat(payload);
    case "client/goodbye":
      return { type: "client/goodbye", reason: String(payload.reason ?? "") };
    default:
      fail("unknown message type", message.type);
  }
}

/** Serializes a server message: `{type, payload}`. */
export function serverMessage(type: string, payload: Record<string, unknown>): string {
  return JSON.stringify({ type, payload });
}

/** Cuts text to at most `maxBytes` of UTF-8 (close reasons, DNS TXT strings), whole characters only. */
export function truncateUtf8(text: string, maxBytes: number): string {
  let out = text;
  while (new TextEncoder().encode(out).byteLength > maxBytes) {
    out = out.slice(0, -1).replace(/[\ud800-\udbff]$/, ""); // never half a surrogate pair
  }
  return out;
}
