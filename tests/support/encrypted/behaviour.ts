// What the test client does with the server's messages (messaging.md, player v1), as pure
// functions over its state; client.ts wires them to the channel and records the results.
import {
  DEFAULT_BUFFER_CAPACITY,
  DEFAULT_FORMAT,
  type EncryptedClientOptions,
  type PlayerState,
} from "./options.ts";
import { supportedPairMethods } from "./pairing.ts";

export interface ReceivedChunk {
  /** The chunk's timestamp: server-clock µs at which its first sample is output. */
  playAtUs: number;
  sendAheadUs: number;
  payload: Uint8Array;
  /** Local µs (performance.now) at which the WebSocket message arrived. */
  arrivedUs: number;
}

/** client/hello, answering server/hello. */
export function clientHello(options: EncryptedClientOptions, roles: string[]) {
  const hello: Record<string, unknown> = { name: options.name ?? "encrypted test client" };
  hello.supported_roles = roles;
  if (roles.includes("player@v1")) {
    hello["player@v1_support"] = {
      supported_formats: options.formats ?? [DEFAULT_FORMAT],
      buffer_capacity: options.bufferCapacity ?? DEFAULT_BUFFER_CAPACITY,
    };
  }
  hello.supported_pair_methods = supportedPairMethods(options.pairing);
  hello.unpaired_access = { enabled: options.unpairedAccess ?? true };
  return hello;
}

export interface Activation {
  /** The active roles after it (active_roles persists when omitted). */
  roles: string[];
  /** It opens the connection's role data: playback declared, or roles active. */
  opens: boolean;
  /** A role became active that was not before (its client/state is due). */
  gained: boolean;
  faults: string[];
}

/** Reads a server/activate; `listed` is the client's supported_roles. */
export function readActivation(
  payload: Record<string, unknown>,
  previous: string[],
  first: boolean,
  listed: string[],
): Activation {
  const faults: string[] = [];
  let roles = previous;
  if (Array.isArray(payload.active_roles)) roles = payload.active_roles.map(String);
  else if (first) faults.push("the first server/activate has no active_roles");
  if (!Array.isArray(payload.activities)) faults.push("server/activate has no activities");
  const activities: unknown[] = Array.isArray(payload.activities) ? payload.activities : [];
  const unlisted = roles.filter((role) => !listed.includes(role));
  if (unlisted.length) faults.push(`server/activate activates unlisted ${unlisted}`);
  return {
    roles,
    opens: activities.includes("playback") || roles.length > 0,
    gained: roles.some((role) => !previous.includes(role)),
    faults,
  };
}

/**
 * Applies server/command.player to `player`: "ignored" when the command is not in its
 * supported_commands (player v1: the client ignores it), "malformed" when its value is missing
 * or out of range.
 */
export function applyPlayerCommand(
  player: PlayerState,
  command: Record<string, unknown>,
): "applied" | "ignored" | "malformed" {
  const name = String(command.command);
  if (!player.supported_commands.includes(name)) return "ignored";
  const int = (value: unknown, max: number): value is number =>
    Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max;
  if (name === "volume" && int(command.volume, 100)) player.volume = command.volume;
  else if (name === "mute" && typeof command.mute === "boolean") player.muted = command.mute;
  else if (name === "set_output_delay" && int(command.output_delay_ms, 5000)) {
    player.output_delay_ms = command.output_delay_ms;
  } else return "malformed";
  return "applied";
}

/** Binary type 4 after its type byte: [int64 BE timestamp][uint32 BE send_ahead][frame]. */
export function parseAudioChunk(body: Uint8Array, arrivedUs: number): ReceivedChunk | undefined {
  if (body.length < 12) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, 12);
  return {
    playAtUs: Number(view.getBigInt64(0)),
    sendAheadUs: view.getUint32(8),
    payload: body.slice(12),
    arrivedUs,
  };
}
