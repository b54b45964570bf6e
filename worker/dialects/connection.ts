/**
 * The one seam between a listener's session and the wire. A dialect (the legacy v1 JSON
 * dialect today) turns the client's frames into `ClientMessage`s for the session and
 * renders what the session sends in its own shapes and framing, so a second dialect can
 * stand beside the first without touching groups, encoders or queues.
 */
import type { ClientMessage } from "../../protocol/messages.ts";
import type { FramedChunk } from "../future_audio.ts";

/** What the session answers a client's hello with; each dialect words it its own way. */
export interface Welcome {
  serverId: string;
  name: string;
  /** The roles activated for this client, most preferred first. */
  activeRoles: string[];
  /** It may play now; false holds it connected with nothing active (awaiting approval). */
  playback: boolean;
}

/**
 * What the connection proves about the client: a legacy client is who it says it is; an
 * encrypted one holds its key, and is paired (a long-term PSK), dialled by us (`--client`),
 * or unpaired (the Sentinel PSK).
 */
export type Trust = "legacy" | "paired" | "dialled" | "unpaired";

export interface ClientConnection {
  readonly trust: Trust;
  /** The client's authenticated id (its static key, base64url), where the dialect has one. */
  readonly clientId?: string;
  /** Audio may start only after the client's first `client/state` (the encrypted dialect). */
  readonly streamsAfterState: boolean;
  /** The handshake's answer to `client/hello`. */
  welcome(welcome: Welcome): void;
  /** A later change of what the client may do (an approval); dialects without one ignore it. */
  activate(welcome: Welcome): void;
  /** One JSON message. */
  send(type: string, payload: Record<string, unknown>): void;
  /** Audio chunks in order, each its own message as the dialect frames it, in one write. */
  sendAudio(chunks: readonly FramedChunk[]): void;
  /** One image (empty: clear the channel) for artwork channel 0-3, shown at `timestampUs`. */
  sendArtwork(channel: number, timestampUs: number, image: Uint8Array): void;
  /** Bytes handed to the socket and not yet taken by the kernel. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

/** What a dialect hands its session. */
export interface SessionInput {
  /** A valid message, stamped with the server time at which it was read. */
  receive(message: ClientMessage, receivedUs: number): void;
  /** A message that could not be accepted; `reason` says why. */
  refuse(reason: string, receivedUs: number): void;
  /** The client broke a rule of the transport: it is closed with `code`. */
  violate(code: number, reason: string): void;
  /** The connection is gone, by either side. */
  onClosed(): void;
}
