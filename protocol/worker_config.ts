/**
 * Everything a worker is told about the party it serves: the one contract between the
 * coordinator and its workers. A subprocess worker gets it as the first frame on its stdin,
 * an in-process worker as this very object. It has no defaults of its own: the coordinator
 * fills every field from the validated `ServeConfig`, whose defaults are written once, in
 * `coordinator/config.ts`.
 */
import type { Clock } from "./clock.ts";
import type { DownMessage } from "./ipc.ts";
import { LOG_LEVELS, type Logger, type LogLevel } from "./log.ts";

export interface WorkerConfig {
  /** Which worker this is, from 0; every upward message names it. */
  index: number;
  /** The server's name in `server/hello`. */
  name: string;
  /** This worker's `server_id`: the party's id and the worker's index. */
  serverId: string;
  host: string;
  /** 0 asks the OS for a free port. */
  port: number;
  /** Share the port with the other workers (SO_REUSEPORT). */
  reusePort: boolean;
  /** Absolute path of the player page's files (`web/dist`). */
  assetsDir: string;
  logLevel: LogLevel;
  /** Opus bits per second. */
  opusBitrate: number;
  /** Listeners allowed across all workers (counts from the coordinator may lag a little). */
  maxClients: number;
  /** Listening clients to dial (`--client ws://...`; only with one worker). */
  dial: string[];
  /**
   * The server's X25519 private key, base64url: every worker speaks with the one identity.
   * It comes down the pipe because a worker may not read files.
   */
  identityKey: string;
  /** Unpaired encrypted clients: all welcome ("open"), or each approved by the operator. */
  guests: GuestPolicy;
  /** Whether legacy (unencrypted v1) clients may play. */
  legacy: boolean;
  /** Client ids (static keys) the operator approved; later changes come as `approvals`. */
  approved: string[];
  /** The paired clients' long-term PSKs; later changes come as `pairings`. */
  pairings: PairedClient[];
  /** Keep a record of every client and report it when it leaves (`--summary`). */
  recordClients: boolean;
}

/** A paired client as a worker needs it: who, and the long-term PSK (base64url) it proves. */
export interface PairedClient {
  clientId: string;
  psk: string;
}

export type GuestPolicy = "open" | "ask";
export const GUEST_POLICIES: readonly GuestPolicy[] = ["open", "ask"];

/** Thrown for a configuration frame that is not a whole `WorkerConfig`. */
export class WorkerConfigError extends TypeError {}

/** Checks an untrusted value (a decoded frame) field by field. */
export function checkWorkerConfig(value: unknown): WorkerConfig {
  const c = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const need = (ok: boolean, field: string) => {
    if (!ok) {
      throw new WorkerConfigError(
        `Cannot start the worker: its configuration has a bad "${field}" (${
          JSON.stringify(c[field])
        })`,
      );
    }
  };
  const isInt = (v: unknown, min: number, max: number) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  need(isInt(c.index, 0, 1_000), "index");
  need(typeof c.name === "string", "name");
  need(typeof c.serverId === "string" && c.serverId !== "", "serverId");
  need(typeof c.host === "string" && c.host !== "", "host");
  need(isInt(c.port, 0, 65_535), "port");
  need(typeof c.reusePort === "boolean", "reusePort");
  need(typeof c.assetsDir === "string" && c.assetsDir !== "", "assetsDir");
  need(LOG_LEVELS.includes(c.logLevel as LogLevel), "logLevel");
  need(isInt(c.opusBitrate, 6_000, 510_000), "opusBitrate");
  need(isInt(c.maxClients, 1, Number.MAX_SAFE_INTEGER), "maxClients");
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((u) => typeof u === "string");
  need(isStrings(c.dial), "dial");
  need(typeof c.recordClients === "boolean", "recordClients");
  need(
    typeof c.identityKey === "string" && /^[A-Za-z0-9_-]{43}$/.test(c.identityKey),
    "identityKey",
  );
  need(GUEST_POLICIES.includes(c.guests as GuestPolicy), "guests");
  need(typeof c.legacy === "boolean", "legacy");
  need(isStrings(c.approved), "approved");
  const isPaired = (v: unknown) =>
    typeof (v as PairedClient)?.clientId === "string" &&
    /^[A-Za-z0-9_-]{43}$/.test((v as PairedClient)?.psk);
  need(Array.isArray(c.pairings) && c.pairings.every(isPaired), "pairings");
  return {
    index: c.index as number,
    name: c.name as string,
    serverId: c.serverId as string,
    host: c.host as string,
    port: c.port as number,
    reusePort: c.reusePort as boolean,
    assetsDir: c.assetsDir as string,
    logLevel: c.logLevel as LogLevel,
    opusBitrate: c.opusBitrate as number,
    maxClients: c.maxClients as number,
    dial: [...c.dial as string[]],
    identityKey: c.identityKey as string,
    guests: c.guests as GuestPolicy,
    legacy: c.legacy as boolean,
    approved: [...c.approved as string[]],
    pairings: (c.pairings as PairedClient[]).map(({ clientId, psk }) => ({ clientId, psk })),
    recordClients: c.recordClients as boolean,
  };
}

/** A worker's input and output, wherever it runs. */
export interface WorkerIo {
  /** Commands from the coordinator, after the configuration. */
  input: AsyncIterable<DownMessage>;
  /** Status lines to the coordinator. */
  output: WritableStream<Uint8Array>;
  /** The coordinator's clock when in its process; absent, it is calibrated over the pipes. */
  clock?: Clock;
  /** Default: a logger of `config.logLevel` whose lines start `[W<index>] `. */
  log?: Logger;
}

/** The worker's entry point (`worker/worker.ts`), handed to the coordinator by `main.ts`. */
export type RunWorker = (config: WorkerConfig, io: WorkerIo) => Promise<void>;
