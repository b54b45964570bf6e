/**
 * Brings a Chromecast into the party (`--client cast://host[:port]`): over the Cast v2
 * channel (TLS, length-prefixed protobuf) it launches the Sendspin receiver app and tells
 * it where the party is; the app then connects back as an ordinary listener. On shutdown
 * the app is quit. A device that cannot be reached (or reboots) is tried again, 1 s up to
 * 5 min apart; an app closed at the device is left closed. One console line per change.
 */
import { connect, type TLSSocket } from "node:tls";
import type { Logger } from "../../protocol/log.ts";
import { Backoff } from "../../protocol/backoff.ts";
import { sleepMs } from "../../protocol/sleep.ts";
import { type CastMessage, CastMessageReader, encodeCastMessage } from "./cast_message.ts";

export const SENDSPIN_APP_ID = "938CBF87";
export const SENDSPIN_NAMESPACE = "urn:x-cast:sendspin";
export const DEFAULT_CAST_PORT = 8009;
const CONNECTION = "urn:x-cast:com.google.cast.tp.connection";
const HEARTBEAT = "urn:x-cast:com.google.cast.tp.heartbeat";
const RECEIVER = "urn:x-cast:com.google.cast.receiver";
const SENDER_ID = "sender-0";
const PLATFORM_ID = "receiver-0";

const CONNECT_TIMEOUT_MS = 15_000;
const LAUNCH_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 2_000;
const PING_EVERY_MS = 5_000;
/** Silence this long (no PONG, nothing) means the device is gone. */
const SILENT_FOR_MS = 15_000;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

export interface CastOptions {
  /** Where the receiver app connects back: `http://<address>:<port>`. */
  serverUrl: string;
  log: Logger;
  signal: AbortSignal;
}

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** One TLS connection to a device: JSON messages in and out, heartbeat kept. */
class CastChannel {
  #socket: TLSSocket;
  #waiters = new Set<(message: CastMessage, json: Json) => boolean>();
  #requestId = 0;
  #lastHeardMs = Date.now();
  #pinger: ReturnType<typeof setInterval>;
  readonly closed: Promise<void>;

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    const closed = Promise.withResolvers<void>();
    this.closed = closed.promise;
    const reader = new CastMessageReader((message) => this.#receive(message));
    socket.on("data", (bytes: Uint8Array) => {
      try {
        reader.push(bytes);
      } catch {
        socket.destroy(); // not a Cast device, or a broken one
      }
    });
    socket.on("close", () => {
      clearInterval(this.#pinger);
      closed.resolve();
    });
    this.#pinger = setInterval(() => {
      if (Date.now() - this.#lastHeardMs > SILENT_FOR_MS) return socket.destroy();
      this.send(HEARTBEAT, PLATFORM_ID, { type: "PING" });
    }, PING_EVERY_MS);
  }

  /**
   * Cast devices present self-signed certificates: there is nothing to verify them with.
   * Resolves undefined if `signal` aborts first (the attempt is dropped at once).
   */
  static open(host: string, port: number, signal: AbortSignal): Promise<CastChannel | undefined> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, rejectUnauthorized: false });
      const stop = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        stop();
        socket.destroy();
        resolve(undefined);
      };
      const timer = setTimeout(() => {
        stop();
        socket.destroy();
        reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`));
      }, CONNECT_TIMEOUT_MS);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", (error: Error & { code?: string }) => {
        stop();
        reject(new Error(error.code ?? error.message));
      });
      socket.once("secureConnect", () => {
        stop();
        socket.removeAllListeners("error");
        socket.on("error", () => socket.destroy());
        socket.setNoDelay(true);
        resolve(new CastChannel(socket));
      });
    });
  }

  send(namespace: string, destinationId: string, payload: Json): void {
    const data = JSON.stringify(payload);
    this.#socket.write(encodeCastMessage({ sourceId: SENDER_ID, destinationId, namespace, data }));
  }

  /** Sends a request with the next requestId; returns the id. */
  request(namespace: string, destinationId: string, payload: Json): number {
    const requestId = ++this.#requestId;
    this.send(namespace, destinationId, { ...payload, requestId });
    return requestId;
  }

  /** The next message `test` accepts, or an error after `ms` or when the device goes away. */
  next(test: (json: Json, message: CastMessage) => boolean, ms: number): Promise<Json> {
    return new Promise((resolve, reject) => {
      const waiter = (message: CastMessage, json: Json) => {
        if (!test(json, message)) return false;
        done();
        resolve(json);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no answer within ${ms / 1000} s`));
      }, ms);
      const gone = () => {
        done();
        reject(new Error("the device closed the connection"));
      };
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      this.closed.then(gone);
    });
  }

  /** Messages nobody waits for go to `onUnsolicited` (receiver status changes). */
  onUnsolicited: (json: Json) => void = () => {};

  close(): void {
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), STOP_TIMEOUT_MS);
  }

  #receive(message: CastMessage): void {
    this.#lastHeardMs = Date.now();
    let json: Json;
    try {
      json = JSON.parse(message.data);
    } catch {
      return;
    }
    if (message.namespace === HEARTBEAT && json.type === "PING") {
      return this.send(HEARTBEAT, message.sourceId, { type: "PONG" });
    }
    for (const waiter of this.#waiters) if (waiter(message, json)) return;
    if (message.namespace === RECEIVER) this.onUnsolicited(json);
  }
}

/** Our app in a RECEIVER_STATUS, if it runs. */
function sendspinApp(json: Json): { sessionId: string; transportId: string } | undefined {
  if (json.type !== "RECEIVER_STATUS") return undefined;
  const apps: Json[] = Array.isArray(json.status?.applications) ? json.status.applications : [];
  const app = apps.find((a) => a?.appId === SENDSPIN_APP_ID);
  if (typeof app?.sessionId !== "string" || typeof app?.transportId !== "string") return undefined;
  return { sessionId: app.sessionId, transportId: app.transportId };
}

type Outcome = "stopped" | "not started" | "lost" | "closed at the device";

/** One connection: launch, configure, then wait for shutdown or the end of the app. */
async function castOnce(url: URL, options: CastOptions, onLaunched: () => void): Promise<Outcome> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const { signal } = options;
  const channel = await CastChannel.open(host, Number(url.port || DEFAULT_CAST_PORT), signal);
  if (!channel) return "not started"; // shutdown while connecting: nothing to quit
  let onAbort = () => {};
  const aborted = new Promise<"stopped">((resolve) => {
    onAbort = () => resolve("stopped");
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    // A launch, once asked for, is seen through even during shutdown, so it can be quit.
    channel.send(CONNECTION, PLATFORM_ID, { type: "CONNECT", origin: {} });
    const launch = channel.request(RECEIVER, PLATFORM_ID, {
      type: "LAUNCH",
      appId: SENDSPIN_APP_ID,
    });
    const launched = await channel.next(
      (json) =>
        !!sendspinApp(json) || (json.requestId === launch && json.type !== "RECEIVER_STATUS"),
      LAUNCH_TIMEOUT_MS,
    );
    let app = sendspinApp(launched);
    if (!app) {
      throw new Error(
        `the device refused to launch Sendspin (${launched.type}: ${
          launched.reason ?? "no reason"
        })`,
      );
    }
    channel.send(CONNECTION, app.transportId, { type: "CONNECT", origin: {} });
    channel.request(SENDSPIN_NAMESPACE, app.transportId, {
      serverUrl: options.serverUrl,
      playerId: `cast-${host.replace(/[^a-zA-Z0-9]/g, "-")}`,
      playerName: `Chromecast (${host})`,
      syncDelay: 0,
      codecs: ["flac"],
    });
    onLaunched();
    const appClosed = new Promise<Outcome>((resolve) => {
      channel.onUnsolicited = (json) => {
        if (json.type !== "RECEIVER_STATUS") return;
        const now = sendspinApp(json);
        if (!now) resolve("closed at the device");
        else app = now; // reloaded on the device: quit the session that runs now
      };
    });
    const outcome = await Promise.race([
      aborted,
      appClosed,
      channel.closed.then(() => "lost" as const),
    ]);
    if (outcome === "stopped") {
      const stop = channel.request(RECEIVER, PLATFORM_ID, {
        type: "STOP",
        sessionId: app.sessionId,
      });
      await channel.next((json) => json.requestId === stop, STOP_TIMEOUT_MS).catch(() => {});
      channel.send(CONNECTION, app.transportId, { type: "CLOSE" });
    }
    return outcome;
  } finally {
    signal.removeEventListener("abort", onAbort);
    channel.close();
  }
}

/** Keeps a Cast device in the party until shutdown (see the file's comment). */
export async function keepCasting(url: URL, options: CastOptions): Promise<void> {
  const { log, signal } = options;
  const name = url.href;
  const backoff = Backoff.doubling(FIRST_RETRY_MS, MAX_RETRY_MS);
  // An object, as the launch callback changes it behind the compiler's back.
  const now: { state: "starting" | "playing" | "away" } = { state: "starting" };
  while (!signal.aborted) {
    let outcome: Outcome;
    try {
      outcome = await castOnce(url, options, () => {
        log.info(`${name}: Sendspin launched; the device joins the party`);
        now.state = "playing";
        backoff.reset();
      });
    } catch (error) {
      if (now.state !== "away") {
        log.warn(
          `${name} cannot be reached (${
            (error as Error).message
          }): trying again, up to every 5 min`,
        );
        now.state = "away";
      }
      outcome = "lost";
    }
    if (outcome === "stopped") return log.info(`${name}: Sendspin quit on the device`);
    if (outcome === "not started") return;
    if (outcome === "closed at the device") {
      return log.warn(
        `${name}: Sendspin was closed on the device; it stays closed (restart the server to cast again)`,
      );
    }
    const delayMs = backoff.next();
    if (now.state === "playing") {
      log.warn(`${name} went away: trying again in ${delayMs / 1000} s`);
      now.state = "away";
    }
    await sleepMs(delayMs, signal);
  }
}
