/**
 * Binds an upgraded socket to a new session. The connection's first message decides its
 * dialect: `client/init` is the encrypted one (a Noise handshake, then transport messages),
 * anything else is the legacy v1 dialect (`client/hello` first), refused with a reason where
 * the party runs `--legacy off`.
 */
import type { Socket } from "node:net";
import { isObject } from "../../protocol/messages.ts";
import { MAX_MESSAGE_BYTES } from "../client_limits.ts";
import { WebSocketConnection, type WebSocketHandlers } from "../edge/websocket.ts";
import { type GroupPort, HELLO_TIMEOUT_MS, Session } from "../session.ts";
import { EncryptedConnection } from "./encrypted/connection.ts";
import { EncryptedHandshake } from "./encrypted/handshake.ts";
import type { PskChoice, ServerIdentity } from "./encrypted/identity.ts";
import { LegacyConnection, legacyHandlers } from "./legacy.ts";

export type Dialect = "legacy" | "encrypted";

/** What the dialects need from the worker. */
export interface DialectContext {
  group: GroupPort;
  identity: ServerIdentity;
  /** Whether legacy clients may play (`--legacy on`). */
  legacy: boolean;
  /** The PSK to reference in a client's handshake. */
  pskFor: (clientId: string) => PskChoice;
  /** An encrypted client answered with the Sentinel where we referenced its pairing. */
  onCredentialMismatch?: (clientId: string) => void;
  /** Every new session, whichever side dialled. */
  onSession?: (session: Session) => void;
}

export interface AcceptOptions {
  /** "client" when we dialled a listening client (it still speaks first). */
  side?: "server" | "client";
  /** We dialled it (`--client`): being named is its approval. */
  dialled?: boolean;
  /** Told once the first message has shown the dialect. */
  onDialect?: (dialect: Dialect) => void;
  /** Told the session once there is one (tests reach the connection through it). */
  onSession?: (session: Session) => void;
}

const CLOSE_POLICY = 1008;

/** Starts a session on `socket`; the promise settles when the connection is gone. */
export function acceptSendspin(
  socket: Socket,
  already: Uint8Array,
  context: DialectContext,
  options: AcceptOptions = {},
): Promise<void> {
  const websocket = new WebSocketConnection(socket, MAX_MESSAGE_BYTES, options.side);
  const closed = Promise.withResolvers<void>();
  let session: Session | undefined;
  let handshake: EncryptedHandshake | undefined;
  // Replaced once the dialect is known; every event goes to the current one.
  let current: Omit<WebSocketHandlers, "onClosed">;
  const firstMessage = setTimeout(
    () => websocket.close(CLOSE_POLICY, "no client/hello within 5 s"),
    HELLO_TIMEOUT_MS,
  );
  const startSession = (connection: LegacyConnection | EncryptedConnection) => {
    session = new Session(connection, context.group);
    // A client that connected to us fetches covers where it reached us; one we dialled has
    // no address of ours to use.
    if (options.side !== "client") session.origin = originOf(socket);
    context.onSession?.(session);
    options.onSession?.(session);
    return session;
  };
  const startLegacy = (): Omit<WebSocketHandlers, "onClosed"> => {
    options.onDialect?.("legacy");
    return legacyHandlers(startSession(new LegacyConnection(websocket)), context.group.clock);
  };
  const startEncrypted = (): Omit<WebSocketHandlers, "onClosed"> => {
    options.onDialect?.("encrypted");
    handshake = new EncryptedHandshake(websocket, {
      identity: context.identity,
      pskFor: context.pskFor,
      onDone: (result) => {
        handshake = undefined;
        if (result.credentialMismatch) context.onCredentialMismatch?.(result.init.clientId);
        const connection = new EncryptedConnection(websocket, result, {
          identity: context.identity,
          clock: context.group.clock,
          name: context.group.name,
          dialled: options.dialled === true,
        });
        current = {
          onText: () => connection.onText(),
          onBinary: (bytes) => connection.onBinary(bytes, context.group.clock.nowUs()),
          onTooBig: () => connection.onText(), // no transport message is that big
        };
        connection.start(startSession(connection));
      },
    });
    const duringHandshake = handshake;
    return {
      onText: (text) => duringHandshake.onText(text),
      onBinary: () => duringHandshake.fail(),
      onTooBig: () => duringHandshake.fail(),
    };
  };
  current = {
    onText: (text) => {
      clearTimeout(firstMessage);
      if (firstTypeOf(text) === "client/init") {
        current = startEncrypted();
        return handshake!.start(text);
      }
      if (!context.legacy) {
        options.onDialect?.("legacy");
        return websocket.close(
          CLOSE_POLICY,
          "this party speaks only encrypted Sendspin (--legacy off): update the client",
        );
      }
      current = startLegacy();
      current.onText(text);
    },
    onBinary: (bytes) => {
      clearTimeout(firstMessage);
      current = startLegacy();
      current.onBinary(bytes);
    },
    onTooBig: () => {
      clearTimeout(firstMessage);
      current = startLegacy();
      current.onTooBig();
    },
  };
  // One client's trouble never reaches the others: close just this one.
  const guarded = (handle: () => void) => {
    try {
      handle();
    } catch (error) {
      console.error(`closing a client: ${(error as Error)?.message ?? error}`);
      if (session) session.close(1011, "internal error");
      else websocket.close(1011, "internal error");
    }
  };
  websocket.start({
    onText: (text) => guarded(() => current.onText(text)),
    onBinary: (bytes) => guarded(() => current.onBinary(bytes)),
    onTooBig: () => guarded(() => current.onTooBig()),
    onClosed: () => {
      clearTimeout(firstMessage);
      handshake?.dispose();
      if (session) guarded(() => session!.onClosed());
      closed.resolve();
    },
  }, already);
  return closed.promise;
}

/** The `type` of a JSON message, without trusting anything else about it. */
function firstTypeOf(text: string): string | undefined {
  try {
    const message = JSON.parse(text);
    return isObject(message) && typeof message.type === "string" ? message.type : undefined;
  } catch {
    return undefined;
  }
}

/** `http://address:port` of our end of `socket`, as the client reached it. */
function originOf(socket: Socket): string | undefined {
  const address = socket.localAddress?.replace(/^::ffff:(?=\d+\.)/, "");
  if (!address || !socket.localPort) return undefined;
  return `http://${address.includes(":") ? `[${address}]` : address}:${socket.localPort}`;
}
