/** The only place that touches Deno's WebSocket: maps its events onto a Session. */
import type { GroupPort } from "./session.ts";
import { Session } from "./session.ts";

export function acceptSendspin(request: Request, group: GroupPort): Response {
  let upgraded;
  try {
    upgraded = Deno.upgradeWebSocket(request);
  } catch (error) {
    return new Response(`Cannot upgrade to a WebSocket: ${(error as Error).message}`, {
      status: 400,
    });
  }
  const { socket, response } = upgraded;
  socket.binaryType = "arraybuffer";
  const session = new Session({
    send: (data) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(data);
    },
    close: (code, reason) => {
      if (socket.readyState <= WebSocket.OPEN) socket.close(code, reason);
    },
    bufferedAmount: () => socket.bufferedAmount,
  }, group);
  socket.onmessage = (event) => {
    // Stamped first thing: `server_received` of a time answer must be the moment of reading.
    const receivedUs = group.clock.nowUs();
    try {
      if (typeof event.data === "string") session.onText(event.data, receivedUs);
      else session.onBinary();
    } catch (error) {
      // One client's trouble never reaches the others: close just this one.
      console.error(`closing ${session.displayName}: ${(error as Error)?.message ?? error}`);
      session.close(1011, "internal error");
    }
  };
  socket.onclose = () => session.onClosed();
  socket.onerror = () => session.onClosed();
  return response;
}
