/** The only place that touches Deno's WebSocket: maps its events onto a Session. */
import type { GroupPort } from "./session.ts";
import { Session } from "./session.ts";

export function acceptSendspin(request: Request, group: GroupPort): Response {
  const { socket, response } = Deno.upgradeWebSocket(request);
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
    if (typeof event.data === "string") session.onText(event.data, receivedUs);
    else session.onBinary();
  };
  socket.onclose = () => session.onClosed();
  socket.onerror = () => session.onClosed();
  return response;
}
