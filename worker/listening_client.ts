/**
 * A listening Sendspin client the party dials (`--client ws://...`): a speaker that waits
 * for a server rather than finding one. Once connected it is a guest like any other; when
 * it goes away it is dialled again, after 1 s, then twice as long each time up to 5 min (the
 * wait starts over after a session of 10 s or more).
 * The console gets one line per change of state, not one per attempt.
 */
import { Backoff } from "../protocol/backoff.ts";
import type { Logger } from "../protocol/log.ts";
import { sleepMs } from "../protocol/sleep.ts";
import { DialError, dialWebSocket } from "./edge/dial.ts";
import { acceptSendspin, type DialectContext } from "./dialects/accept.ts";

export const FIRST_RETRY_MS = 1_000;
export const MAX_RETRY_MS = 5 * 60_000;
/** A session this long was a real one: the next wait starts over at 1 s. */
const STABLE_SESSION_MS = 10_000;

export interface DialOptions {
  /** Tests shorten the waits. */
  firstRetryMs?: number;
  maxRetryMs?: number;
}

export async function keepDialling(
  url: URL,
  context: DialectContext,
  log: Logger,
  signal: AbortSignal,
  options: DialOptions = {},
): Promise<void> {
  const max = options.maxRetryMs ?? MAX_RETRY_MS;
  const backoff = Backoff.doubling(options.firstRetryMs ?? FIRST_RETRY_MS, max);
  let state: "starting" | "connected" | "away" = "starting";
  let saidLegacy = false;
  while (!signal.aborted) {
    let dialled;
    try {
      dialled = await dialWebSocket(url);
    } catch (error) {
      const why = error instanceof DialError ? error.message : String(error);
      if (state !== "away") {
        log.warn(
          `client ${url.href} cannot be reached (${why}): dialling again, up to every ${
            max / 60_000
          } min`,
        );
        state = "away";
      }
      await sleepMs(backoff.next(), signal);
      continue;
    }
    if (signal.aborted) {
      dialled.socket.destroy();
      break;
    }
    log.info(`client ${url.href} connected`);
    state = "connected";
    const since = Date.now();
    await acceptSendspin(dialled.socket, dialled.already, context, {
      side: "client",
      dialled: true,
      onDialect: (dialect) => {
        if (dialect === "legacy" && !saidLegacy) {
          log.info(`client ${url.href} speaks only the legacy (unencrypted) dialect`);
          saidLegacy = true;
        }
      },
    });
    if (signal.aborted) break;
    // A client that accepts and hangs up at once is not hammered either.
    if (Date.now() - since >= STABLE_SESSION_MS) backoff.reset();
    const delayMs = backoff.next();
    log.warn(`client ${url.href} went away: dialling again in ${delayMs / 1000} s`);
    state = "away";
    await sleepMs(delayMs, signal);
  }
}
