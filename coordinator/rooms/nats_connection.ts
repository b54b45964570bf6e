/**
 * Connects to the party's NATS server with the official client, and turns what can go wrong
 * at the start into one line for people: refused credentials, nothing listening, something
 * that is not NATS, TLS trouble. Once connected, the client reconnects by itself, for ever,
 * quickly (a NATS restart costs the party a second, not the default 2 s per try).
 */
import {
  AuthorizationError,
  connect,
  ConnectionError,
  type NatsConnection,
  TimeoutError,
} from "@nats-io/transport-node";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type { NatsTarget } from "./nats_target.ts";

/** Thrown when the NATS server cannot be used; `message` is the one line to show. */
export class NatsUnavailableError extends Error {}

const CONNECT_TIMEOUT_MS = 5_000;
const RECONNECT_WAIT_MS = 250;
/** A server that stops answering pings is given up on after about 4 s, then retried. */
const PING_INTERVAL_MS = 2_000;
const MAX_PINGS_OUT = 2;

export async function connectNats(target: NatsTarget, name: string): Promise<NatsConnection> {
  ignoreDiscardedSocketResets();
  try {
    return await connect({
      servers: target.servers,
      name,
      timeout: CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      reconnectJitter: 100,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
      // The transport passes its TLS options on to node:tls, this one included.
      ...(target.tls ? { tls: { ...target.tls, ...identityCheck(target) } } : {}),
      ...(target.authenticator ? { authenticator: target.authenticator } : {}),
    });
  } catch (error) {
    throw new NatsUnavailableError(explain(error, target));
  }
}

/**
 * The client leaves the TLS server name empty for an IP address (SNI forbids one), and Deno's
 * TLS then checks the certificate against "localhost". The certificate must instead name the
 * server we dial: one of ours (the same CA-signed certificate, for a cluster's servers).
 */
function identityCheck(target: NatsTarget): object {
  const hosts = target.servers.map((server) => server.slice(0, server.lastIndexOf(":")));
  return {
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
      let refusal: Error | undefined;
      for (const host of hosts) {
        refusal = checkServerIdentity(host.replace(/^\[|\]$/g, ""), cert);
        if (!refusal) return undefined;
      }
      return refusal;
    },
  };
}

function explain(error: unknown, target: NatsTarget): string {
  const where = `NATS at ${target.display}`;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AuthorizationError || /authoriz|authent/i.test(message)) {
    return target.credentials
      ? `${where} refused our credentials (${target.credentials}): check them, or --nats-creds`
      : `${where} wants credentials: give nats://USER:PASSWORD@HOST, or --nats-creds FILE`;
  }
  if (error instanceof TimeoutError) {
    return `${where} did not answer as a NATS server within ${
      CONNECT_TIMEOUT_MS / 1000
    } s: check the address and port (nats-server listens on 4222)`;
  }
  if (/tls|certificate|ssl/i.test(message)) {
    return `${where}: TLS failed (${message}): use tls:// only where the server has TLS, and --nats-ca for its certificate`;
  }
  if (error instanceof ConnectionError && /refused/i.test(message)) {
    return `cannot reach ${where}: connection refused (is nats-server running there?)`;
  }
  return `cannot use ${where}: ${message} (is it a NATS server?)`;
}

let ignoring = false;

/**
 * The Node transport, run by Deno, leaves a socket it discarded (after the server refused us,
 * or while reconnecting) without an error listener, and its reset then surfaces as an
 * uncaught ECONNRESET that would end the process. A reset read on such a socket means nothing
 * to us: the client has already reported the failure or is reconnecting.
 */
function ignoreDiscardedSocketResets(): void {
  if (ignoring) return;
  ignoring = true;
  globalThis.addEventListener("error", (event) => {
    const error = event.error as { code?: string; syscall?: string } | undefined;
    if (error?.code === "ECONNRESET" && error.syscall === "read") event.preventDefault();
  });
}
