/** Binds an upgraded socket to a Session: the WebSocket's events become the session's. */
import type { Socket } from "node:net";
import { MAX_MESSAGE_BYTES } from "./client_limits.ts";
import { WebSocketConnection } from "./edge/websocket.ts";
import type { GroupPort } from "./session.ts";
import { Session } from "./session.ts";

export function acceptSendspin(socket: Socket, already: Uint8Array, group: GroupPort): void {
  const connection = new WebSocketConnection(socket, MAX_MESSAGE_BYTES);
  const session = new Session(connection, group);
  // One client's trouble never reaches the others: close just this one.
  const guarded = (handle: () => void) => {
    try {
      handle();
    } catch (error) {
      console.error(`closing ${session.displayName}: ${(error as Error)?.message ?? error}`);
      session.close(1011, "internal error");
    }
  };
  connection.start({
    onText: (text) => {
      // Stamped first thing: `server_received` of a time answer must be the moment of reading.
      const receivedUs = group.clock.nowUs();
      guarded(() => session.onText(text, receivedUs));
    },
    onBinary: () => guarded(() => session.onBinary()),
    onTooBig: () => guarded(() => session.onTooBig()),
    onClosed: () => session.onClosed(),
  }, already);
}
