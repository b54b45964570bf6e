/** Binds an upgraded socket to a new session, through the connection's dialect. */
import type { Socket } from "node:net";
import { MAX_MESSAGE_BYTES } from "../client_limits.ts";
import { WebSocketConnection } from "../edge/websocket.ts";
import { type GroupPort, Session } from "../session.ts";
import { LegacyConnection, legacyHandlers } from "./legacy.ts";

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
  const websocket = new WebSocketConnection(socket, MAX_MESSAGE_BYTES, side);
  const session = new Session(new LegacyConnection(websocket), group);
  const closed = Promise.withResolvers<void>();
  // One client's trouble never reaches the others: close just this one.
  const guarded = <A extends unknown[]>(handle: (...args: A) => void) => (...args: A) => {
    try {
      handle(...args);
    } catch (error) {
      console.error(`closing ${session.displayName}: ${(error as Error)?.message ?? error}`);
      session.close(1011, "internal error");
    }
  };
  const input = legacyHandlers(session, group.clock);
  websocket.start({
    onText: guarded(input.onText),
    onBinary: guarded(input.onBinary),
    onTooBig: guarded(input.onTooBig),
    onClosed: () => {
      guarded(() => session.onClosed())();
      closed.resolve();
    },
  }, already);
  return closed.promise;
}
