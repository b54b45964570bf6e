/**
 * The server's end of the control channel (control_protocol.ts): each connection is one
 * console command for the client desk; a pairing command is answered when it has ended.
 */
import type { Logger } from "../../protocol/log.ts";
import { decodePairingToken } from "../../protocol/pairing/token.ts";
import { encodeBase64Url } from "../../protocol/noise/base64url.ts";
import type { ClientDesk } from "../clients/client_desk.ts";
import {
  CONTROL_SOCKET,
  type ControlReply,
  type ControlRequest,
  PAIR_WAIT_MS,
} from "./control_protocol.ts";

export interface ControlServer {
  close(): Promise<void>;
}

/** Listens in `folder`; undefined (with one warning) where it cannot. */
export async function serveControl(
  folder: string,
  desk: ClientDesk,
  log: Logger,
): Promise<ControlServer | undefined> {
  const path = `${folder}/${CONTROL_SOCKET}`;
  let listener: Deno.UnixListener;
  try {
    if (await answers(path)) {
      log.warn(
        `another sendspin server runs with ${path}: "sendspin pair" and "sendspin clients" reach that one`,
      );
      return undefined;
    }
    Deno.mkdirSync(folder, { recursive: true, mode: 0o700 });
    Deno.chmodSync(folder, 0o700);
    try {
      Deno.removeSync(path); // left by a server that did not stop cleanly
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    listener = Deno.listen({ transport: "unix", path });
    Deno.chmodSync(path, 0o600);
  } catch (error) {
    log.warn(
      `"sendspin pair" and "sendspin clients" cannot reach this server (${path}: ${
        (error as Error).message
      }); the console works`,
    );
    return undefined;
  }
  const connections = new Set<Deno.UnixConn>();
  const serving = (async () => {
    for await (const connection of listener) {
      connections.add(connection);
      answer(connection, desk).catch(() => {}).finally(() => {
        connections.delete(connection);
        connection.close();
      });
    }
  })().catch(() => {/* closed */});
  return {
    async close() {
      listener.close();
      for (const connection of connections) connection.close();
      await serving;
      try {
        Deno.removeSync(path);
      } catch {
        // gone already
      }
    },
  };
}

async function answer(connection: Deno.UnixConn, desk: ClientDesk): Promise<void> {
  const request = await readRequest(connection);
  const write = (reply: ControlReply) =>
    connection.write(new TextEncoder().encode(JSON.stringify(reply) + "\n"));
  if (!request) {
    await write({ line: "the control request was not understood" });
    return void await write({ done: true, ok: false });
  }
  const token = /^\s*(p|pair)\s+(sp:)?0\S+\s*$/i.test(request.command)
    ? request.command.trim().split(/\s+/)[1]
    : undefined;
  let clientId: string | undefined;
  if (token) {
    try {
      clientId = encodeBase64Url(decodePairingToken(token, "0").clientKey);
    } catch {
      clientId = undefined; // the desk explains what is wrong with it
    }
  }
  const outcome = clientId ? desk.outcome(clientId) : undefined;
  const { text, ok } = desk.command(request.command);
  if (text) await write({ line: text });
  if (!outcome || !ok) return void await write({ done: true, ok });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    outcome,
    new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), PAIR_WAIT_MS)),
  ]);
  clearTimeout(timer);
  if (!result) {
    await write({ line: "the pairing did not finish in 3 minutes: see the server's console" });
    return void await write({ done: true, ok: false });
  }
  await write({ line: result.line });
  await write({ done: true, ok: result.ok });
}

async function readRequest(connection: Deno.UnixConn): Promise<ControlRequest | undefined> {
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\n") && text.length < 4096) {
    const n = await connection.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  try {
    const request = JSON.parse(text.split("\n")[0]);
    return typeof request?.command === "string" ? { command: request.command } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a server answers on `path` (else it is a stale socket, or none). */
async function answers(path: string): Promise<boolean> {
  try {
    const connection = await Deno.connect({ transport: "unix", path });
    connection.close();
    return true;
  } catch {
    return false;
  }
}
