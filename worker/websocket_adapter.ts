/** Binds an upgraded socket to a Session: the WebSocket's events become the session's. */
import type { Socket } from "node:net";
import { MAX_MESSAGE_BYTES } from "./client_limits.ts";
import { WebSocketConnection } from "./edge/websocket.ts";
import type { GroupPort } from "./session.ts";
import { Session } from "./session.ts";

/**
 * Starts a session on `socket` (`side` "client" when we dialled a listening client); the
 * promise settles when the connection is gone.
 */
export function acceptSendspin(
  socket: Socket,
  already: Uint8Array,
  group: GroupPort,
  side: "server" | "client" = "server",
): Promise<void> {
  const connection = new WebSocketConnection(socket, MAX_MESSAGE_BYTES, side);
  const session = new Session(connection, group);
  const closed = Promise.withResolvers<void>();
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
    onClosed: () => {
      guarded(() => session.onClosed());
      closed.resolve();
    },
  }, already);
  return closed.promise;
}
