/**
 * The legacy v1 dialect, as the published sendspin-js 3.2.1 and older devices speak it: JSON
 * text messages from the first, `client/hello` then `server/hello`, and audio as binary
 * messages with a 9-byte header (type 4, int64 timestamp), framed once per chunk.
 */
import { InvalidMessageError, parseClientMessage, serverMessage } from "../../protocol/messages.ts";
import type { Clock } from "../../protocol/clock.ts";
import { legacyArtworkMessage } from "../../protocol/artwork_frames.ts";
import type { FramedChunk } from "../future_audio.ts";
import type { WebSocketConnection, WebSocketHandlers } from "../edge/websocket.ts";
import { MAX_MESSAGE_BYTES } from "../client_limits.ts";
import type { ClientConnection, SessionInput, Welcome } from "./connection.ts";

const CLOSE_UNSUPPORTED = 1003;
const CLOSE_TOO_BIG = 1009;

/** What the dialect needs of a WebSocket. */
export type LegacySocket = Pick<
  WebSocketConnection,
  "send" | "sendBatch" | "bufferedAmount" | "close"
>;

export class LegacyConnection implements ClientConnection {
  readonly trust = "legacy";
  readonly streamsAfterState = false;

  constructor(readonly socket: LegacySocket) {}

  /** Legacy clients are never held, so there is no later activation. */
  activate(): void {}

  welcome(welcome: Welcome): void {
    this.send("server/hello", {
      server_id: welcome.serverId,
      name: welcome.name,
      version: 1,
      active_roles: welcome.activeRoles,
      connection_reason: "playback",
    });
  }

  send(type: string, payload: Record<string, unknown>): void {
    this.socket.send(serverMessage(type, payload));
  }

  sendAudio(chunks: readonly FramedChunk[]): void {
    // The WebSocket frames each chunk's bytes once, and each batch once for all who get it.
    this.socket.sendBatch(chunks.map((chunk) => chunk.bytes));
  }

  sendArtwork(channel: number, timestampUs: number, image: Uint8Array): void {
    this.socket.send(legacyArtworkMessage(channel, timestampUs, image));
  }

  bufferedAmount(): number {
    return this.socket.bufferedAmount();
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}

/** What the WebSocket reads, as the session's input: text is parsed as legacy JSON. */
export function legacyHandlers(
  session: SessionInput,
  clock: Clock,
): Omit<WebSocketHandlers, "onClosed"> {
  return {
    onText: (text) => {
      // Stamped first thing: `server_received` of a time answer must be the moment of reading.
      const receivedUs = clock.nowUs();
      try {
        return session.receive(parseClientMessage(text), receivedUs);
      } catch (error) {
        if (!(error instanceof InvalidMessageError)) throw error;
        session.refuse(error.message, receivedUs);
      }
    },
    onBinary: () => session.violate(CLOSE_UNSUPPORTED, "clients may not send binary frames"),
    onTooBig: () => session.violate(CLOSE_TOO_BIG, `message over ${MAX_MESSAGE_BYTES / 1024} KiB`),
  };
}
