/**
 * The encrypted dialect's client messages (Sendspin spec, connection.md and messaging.md):
 * `client/init` in cleartext, then everything else inside the Noise transport. They are
 * validated here, once, into the same `ClientMessage`s the legacy dialect produces, so the
 * session behind both is one.
 */
import {
  type ClientHello,
  type ClientMessage,
  fail,
  finite,
  isObject,
  type Json,
  parseCommand,
  parseFormat,
  parsePlayerSupport,
  type PlayerStateUpdate,
} from "./messages.ts";
import { decodeBase64Url } from "./noise/base64url.ts";
import { parseEncryptedArtworkState } from "./artwork_messages.ts";
import { parsePairOffer } from "./pairing/methods.ts";
import { SUITE_NAMES, type SuiteName } from "./noise/suites.ts";

/** The `server/error` reasons of connection.md. */
export type InitRefusal = "malformed" | "unsupported_version" | "unsupported_suite";

/** A `client/init` the server answers with `server/error` `reason`, then closes. */
export class ClientInitError extends Error {
  constructor(readonly reason: InitRefusal, message: string) {
    super(message);
  }
}

export interface ClientInit {
  /** The client's static X25519 public key, base64url (43 characters): its identity. */
  clientId: string;
  clientKey: Uint8Array;
  suite: SuiteName;
}

/** The only core version there is; matched exactly, not as a minimum. */
export const ENCRYPTED_VERSION = 1;

/**
 * Checks `client/init` in the spec's order: an envelope that is not JSON is `malformed`; a
 * whole-number version other than 1 is `unsupported_version` whatever else is wrong; then an
 * unknown suite; anything else wrong (no version, a bad client_id) is `malformed`.
 */
export function parseClientInit(text: string): ClientInit {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new ClientInitError("malformed", "client/init is not JSON");
  }
  if (!isObject(message) || message.type !== "client/init" || !isObject(message.payload)) {
    throw new ClientInitError("malformed", "client/init needs a type and a payload object");
  }
  const { version, suite, client_id: clientId } = message.payload;
  if (Number.isInteger(version) && version !== ENCRYPTED_VERSION) {
    throw new ClientInitError("unsupported_version", `version ${version}, this server speaks 1`);
  }
  if (!SUITE_NAMES.includes(suite as SuiteName)) {
    throw new ClientInitError("unsupported_suite", `suite ${JSON.stringify(suite)}`);
  }
  if (version !== ENCRYPTED_VERSION) {
    throw new ClientInitError("malformed", "client/init needs version 1");
  }
  let clientKey: Uint8Array;
  try {
    if (typeof clientId !== "string") throw new TypeError("not a string");
    clientKey = decodeBase64Url(clientId, { byteLength: 32 });
  } catch {
    throw new ClientInitError("malformed", "client_id must be a 32-byte key in base64url");
  }
  return { clientId: clientId as string, clientKey, suite: suite as SuiteName };
}

/**
 * One decrypted JSON message. Returns undefined for a type this server does not implement:
 * the spec has receivers ignore those (a newer client may send more). Throws
 * InvalidMessageError for a malformed message of a known type.
 */
export function parseEncryptedMessage(text: string, clientId: string): ClientMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    fail("message is not JSON", text.slice(0, 40));
  }
  return readEncryptedMessage(message, clientId);
}

/** {@linkcode parseEncryptedMessage} of a message already parsed from JSON. */
export function readEncryptedMessage(
  message: unknown,
  clientId: string,
): ClientMessage | undefined {
  if (!isObject(message) || typeof message.type !== "string" || !isObject(message.payload)) {
    fail("message must be {type, payload}", message);
  }
  const payload = message.payload;
  switch (message.type) {
    case "client/hello":
      return { type: "client/hello", hello: parseHello(payload, clientId) };
    case "client/time":
      return {
        type: "client/time",
        clientTransmittedUs: finite(payload.client_transmitted, "client_transmitted"),
      };
    case "client/state": {
      if (typeof payload.available !== "boolean") {
        fail("client/state needs available: true or false", payload.available);
      }
      const artwork = parseEncryptedArtworkState(payload.artwork);
      const player = parseState(payload);
      return artwork
        ? { type: "client/state", available: payload.available, player, artwork }
        : { type: "client/state", available: payload.available, player };
    }
    case "client/command":
      return parseCommand(payload);
    case "client/leave":
      return { type: "client/leave" };
    case "client/goodbye":
      return { type: "client/goodbye", reason: String(payload.reason ?? "").slice(0, 40) };
    default:
      return undefined;
  }
}

function parseHello(p: Json, clientId: string): ClientHello {
  const roles = p.supported_roles;
  if (!Array.isArray(roles) || roles.some((r) => typeof r !== "string")) {
    fail("client/hello supported_roles must be a list of strings", roles);
  }
  const access = p.unpaired_access;
  return {
    client_id: clientId,
    name: typeof p.name === "string" ? p.name.slice(0, 200) : "",
    version: ENCRYPTED_VERSION,
    supported_roles: roles.slice(0, 32),
    player_support: parsePlayerSupport(p["player@v1_support"]),
    unpaired_access: isObject(access) && access.enabled === true,
    pair_offer: parsePairOffer(p.supported_pair_methods),
  };
}

/** The full player object of an encrypted `client/state`. */
function parseState(p: Json): PlayerStateUpdate {
  const player = isObject(p.player) ? p.player : {};
  const update: PlayerStateUpdate = {};
  if (typeof player.volume === "number" && Number.isFinite(player.volume)) {
    update.volume = Math.min(100, Math.max(0, Math.round(player.volume)));
  }
  if (typeof player.muted === "boolean") update.muted = player.muted;
  const wholeMs = (value: unknown, max: number) =>
    Number.isInteger(value) && (value as number) >= 0 ? Math.min(value as number, max) : undefined;
  update.output_delay_ms = wholeMs(player.output_delay_ms, 5_000);
  update.min_buffer_ms = wholeMs(player.min_buffer_ms, 5_000);
  const format = parseFormat(player.format);
  if (format) update.format = format;
  return update;
}
