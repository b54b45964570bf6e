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
}

export interface ClientConnection {
  /** The handshake's answer to `client/hello`. */
  welcome(welcome: Welcome): void;
  /** One JSON message. */
  send(type: string, payload: Record<string, unknown>): void;
  /** One audio chunk, as the dialect frames it. */
  sendAudio(chunk: FramedChunk): void;
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
