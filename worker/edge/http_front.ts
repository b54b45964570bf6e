/**
 * A worker's HTTP/1.1 front on a plain TCP listener. Deno.serve has no header or idle
 * timeout, so a connection that never sends a request (or never finishes one) would stay
 * open forever; here every connection either upgrades to the Sendspin WebSocket or is
 * served and closed on a clock. Requests become standard `Request`s for the routes.
 */
import { createServer, type Server, type Socket } from "node:net";
import {
  BadRequest,
  hasBody,
  headEnd,
  MAX_HEAD_BYTES,
  parseRequestHead,
  type RequestHead,
  wantsKeepAlive,
} from "./request_head.ts";
import { acceptFor } from "./websocket.ts";
import { concatBytes } from "../../protocol/concat.ts";

/** A client has this long to send a whole request head after connecting... */
export const HEAD_TIMEOUT_MS = 10_000;
/** ...and this long to start its next request on a kept-alive connection. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A response the client does not read within this time is abandoned. */
const WRITE_TIMEOUT_MS = 30_000;
/** Bytes of pipelined requests held while one is served (a browser pipelines none). */
const MAX_QUEUED_BYTES = 4 * MAX_HEAD_BYTES;
/** On shutdown, connections still open after this are cut. */
const SHUTDOWN_GRACE_MS = 2_000;

export interface FrontOptions {
  hostname: string;
  port: number;
  reusePort: boolean;
  /** Serves GET and HEAD requests. */
  handler: (request: Request) => Response | Promise<Response>;
  /** The one path that upgrades to a WebSocket; other upgrade requests go to `handler`. */
  websocketPath: string;
  /** Takes over an upgraded socket; `already` holds bytes that came after the request. */
  onWebSocket: (socket: Socket, already: Uint8Array) => void;
  onError: (error: unknown) => void;
  /** Defaults: HEAD_TIMEOUT_MS and KEEP_ALIVE_TIMEOUT_MS (tests shorten them). */
  headTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export interface Front {
  port: number;
  /** Stops listening and waits for every connection to end (cut after a grace). */
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  505: "HTTP Version Not Supported",
};

/** Listens, or rejects with the listen error (its `code` says why: EADDRINUSE...). */
export function listen(options: FrontOptions): Promise<Front> {
  /** Plain HTTP connections, and WebSockets (which their sessions close on shutdown). */
  const sockets = { http: new Set<Socket>(), websocket: new Set<Socket>() };
  const server: Server = createServer({ pauseOnConnect: false }, (socket) => {
    sockets.http.add(socket);
    socket.on("close", () => {
      sockets.http.delete(socket);
      sockets.websocket.delete(socket);
    });
    serveConnection(socket, options, () => {
      sockets.http.delete(socket);
      sockets.websocket.add(socket);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const listenOptions = {
      host: options.hostname,
      port: options.port,
      reusePort: options.reusePort,
    };
    server.listen(listenOptions, () => {
      server.off("error", reject);
      server.on("error", options.onError);
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({ port, close: () => closeAll(server, sockets) });
    });
  });
}

/** Browsers keep idle connections open: those go at once; WebSockets get a grace to close. */
async function closeAll(
  server: Server,
  sockets: { http: Set<Socket>; websocket: Set<Socket> },
): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets.http) socket.destroy();
  const deadline = Date.now() + SHUTDOWN_GRACE_MS;
  while (sockets.websocket.size && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const socket of sockets.websocket) socket.destroy();
  await stopped;
}

function serveConnection(socket: Socket, options: FrontOptions, onUpgraded: () => void): void {
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  let received: Uint8Array = new Uint8Array(0);
  let busy = false;
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expire = (ms: number, onTimeout: () => void) => {
    clearTimeout(timer);
    timer = setTimeout(onTimeout, ms);
  };
  const waitForHead = (ms: number) =>
    expire(ms, () => {
      // Half a request gets an answer; an idle keep-alive connection is simply closed.
      if (received.byteLength) finish(408, "Request head not received in time");
      else socket.destroy();
    });
  const finish = (status: number, message: string) => {
    done = true;
    writeAnswer(socket, plainAnswer(status, message), false, false);
    endSoon();
  };
  const endSoon = () => {
    socket.end();
    expire(WRITE_TIMEOUT_MS, () => socket.destroy());
  };
  const onData = (bytes: Uint8Array) => {
    if (done) return;
    received = received.byteLength ? concatBytes(received, bytes) : bytes;
    // Requests queued behind the one being served: a few are pipelining, more is a flood.
    if (received.byteLength > MAX_QUEUED_BYTES) return finish(431, "Too many queued requests");
    if (!busy) serveNext();
  };
  const serveNext = () =>
    next().catch((error) => {
      options.onError(error);
      socket.destroy();
    });
  /** Serves every complete request received, one at a time. */
  const next = async () => {
    const end = headEnd(received);
    if (end < 0) {
      if (received.byteLength > MAX_HEAD_BYTES) finish(431, "Request head too large");
      return;
    }
    if (end > MAX_HEAD_BYTES) return finish(431, "Request head too large");
    clearTimeout(timer);
    const headBytes = received.subarray(0, end - 4);
    received = new Uint8Array(received.subarray(end)); // a copy (a Buffer's slice is a view)
    let head: RequestHead;
    try {
      head = parseRequestHead(headBytes);
    } catch (error) {
      if (error instanceof BadRequest) return finish(error.status, error.message);
      throw error;
    }
    const upgrade = head.headers.get("upgrade")?.toLowerCase() === "websocket" &&
      head.method === "GET" && head.target.split("?")[0] === options.websocketPath;
    if (upgrade) {
      const accept = head.headers.get("sec-websocket-version") === "13" && !hasBody(head)
        ? acceptFor(head.headers.get("sec-websocket-key"))
        : undefined;
      if (!accept) return finish(400, "Bad WebSocket handshake (version 13 and a key needed)");
      done = true;
      socket.off("data", onData);
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
          `sec-websocket-accept: ${accept}\r\n\r\n`,
      );
      onUpgraded();
      return options.onWebSocket(socket, received);
    }
    const keepAlive = wantsKeepAlive(head) && !hasBody(head);
    busy = true;
    socket.pause();
    const flushed = writeAnswer(
      socket,
      await answer(head, options),
      head.method === "HEAD",
      keepAlive,
    );
    if (!keepAlive) {
      done = true;
      return endSoon();
    }
    if (!flushed && !socket.destroyed) {
      // A client that pipelines requests without reading the answers waits for them.
      expire(WRITE_TIMEOUT_MS, () => socket.destroy());
      await new Promise<void>((resolve) => {
        const settle = () => {
          socket.off("drain", settle);
          socket.off("close", settle);
          resolve();
        };
        socket.on("drain", settle);
        socket.on("close", settle);
      });
    }
    if (socket.destroyed) return;
    busy = false;
    socket.resume();
    waitForHead(options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS);
    if (received.byteLength) {
      // Let the listeners' sends and time answers go first: one connection's pipeline must
      // not hold this worker's event loop.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!busy && !done && !socket.destroyed) await next();
    }
  };
  socket.on("data", onData);
  waitForHead(options.headTimeoutMs ?? HEAD_TIMEOUT_MS);
  socket.on("close", () => clearTimeout(timer));
}

/** A response read whole: routes answer from memory (assets are read whole anyway). */
interface Answer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

function plainAnswer(status: number, message: string, extra: [string, string][] = []): Answer {
  return {
    status,
    headers: [["content-type", "text/plain; charset=utf-8"], ...extra],
    body: new TextEncoder().encode(message),
  };
}

async function answer(head: RequestHead, options: FrontOptions): Promise<Answer> {
  if (head.method !== "GET" && head.method !== "HEAD") {
    return plainAnswer(405, "Method not allowed", [["allow", "GET, HEAD"]]);
  }
  let request: Request;
  try {
    request = new Request(`http://localhost${head.target}`, {
      method: head.method,
      headers: [...head.headers],
    });
  } catch {
    return plainAnswer(400, "Malformed request");
  }
  try {
    const response = await options.handler(request);
    const body = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, headers: [...response.headers], body };
  } catch (error) {
    options.onError(error);
    return plainAnswer(500, "Internal error");
  }
}

/**
 * Writes a whole response; returns whether the socket took it without queueing. HEAD
 * answers carry the length the GET body would have.
 */
function writeAnswer(socket: Socket, answer: Answer, headOnly: boolean, keepAlive: boolean) {
  let length = answer.body.byteLength;
  const lines = [`HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? ""}`];
  for (const [name, value] of answer.headers) {
    if (name === "content-length") length = headOnly ? Number(value) || 0 : length;
    else if (name !== "connection" && name !== "transfer-encoding") lines.push(`${name}: ${value}`);
  }
  lines.push(
    `content-length: ${length}`,
    `connection: ${keepAlive ? "keep-alive" : "close"}`,
    "",
    "",
  );
  const head = new TextEncoder().encode(lines.join("\r\n"));
  return socket.write(headOnly || !answer.body.byteLength ? head : concatBytes(head, answer.body));
}
