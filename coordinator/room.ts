/**
 * One room of a party: this machine's workers and everything around them that is the same
 * for the origin (`serve`) and an edge (`edge`): the server's identity, approvals and
 * pairings, the operator's console and control socket, the banner, mDNS and Cast. What the
 * room plays comes from its caller: the origin's timeline, or the origin's over NATS.
 */
import { fileURLToPath } from "node:url";
import { Logger } from "../protocol/log.ts";
import { formatBanner, lanAddress } from "./banner.ts";
import { advertise } from "./discovery/mdns.ts";
import { keepCasting } from "./cast/cast_device.ts";
import { sleepMs } from "../protocol/sleep.ts";
import type { RoomConfig } from "./config.ts";
import { startSubprocessWorker } from "./subprocess_worker.ts";
import { type WorkerPool, WorkerPool as Pool, type WorkerPoolOptions } from "./worker_pool.ts";
import { startInProcessWorker } from "./in_process_worker.ts";
import type { RunWorker, WorkerConfig } from "../protocol/worker_config.ts";
import { Approvals } from "./clients/approvals.ts";
import { Pairings } from "./clients/pairings.ts";
import { ClientDesk } from "./clients/client_desk.ts";
import { serveControl } from "./control/control_socket.ts";
import { type Identity, IdentityError, loadIdentity, shortId } from "./identity.ts";
import { OperatorConsole } from "./operator_console.ts";
import { settingsFolder } from "./private_files.ts";
import { Summary } from "./summary.ts";

/** The player page's files, which every worker serves. */
export const ASSETS_DIR = fileURLToPath(new URL("../web/dist/", import.meta.url));
/**
 * Shutdown waits this long at most for Cast devices to quit the app: long enough for a
 * launch under way (up to 10 s) to finish and be quit, rather than leave the TV pointing
 * at a party that has ended.
 */
const CAST_QUIT_WAIT_MS = 12_000;

/** Thrown when the server cannot start or go on; `message` is the one line to show. */
export class ServeError extends Error {}

export interface RoomOptions {
  signal: AbortSignal;
  /** The worker's entry point, for the worker that runs in this process (`--workers 1`). */
  runWorker: RunWorker;
  /** Where the identity and approvals live; default `~/.config/sendspin` (none without HOME). */
  settingsFolder?: string;
  /** The operator's console input (`Deno.stdin.readable`); default none. */
  consoleInput?: ReadableStream<Uint8Array>;
  /** Where the banner goes; default stdout. */
  print?: (text: string) => void;
  /** Called once the server accepts listeners, with the pool (tests) and its port. */
  onReady?: (info: { port: number; pool: WorkerPool }) => void;
}

/** What the room's caller decides: the party's clock and what listeners' actions do. */
export type RoomHooks = Pick<
  WorkerPoolOptions,
  "onTotal" | "onCommand" | "onGroupVolume" | "onRoomChange" | "clock" | "room"
>;

export class Room {
  readonly log: Logger;
  readonly identity: Identity;
  /** The short id of this server (its key): the party's id, or an edge's among the rooms. */
  readonly shortId: string;
  readonly pool: WorkerPool;
  port = 0;
  host = "";
  #config: RoomConfig;
  #options: RoomOptions;
  #folder?: string;
  #summary?: Summary;
  #noneLeft = Promise.withResolvers<void>();
  #closers: (() => Promise<void>)[] = [];

  constructor(config: RoomConfig, options: RoomOptions, hooks: RoomHooks) {
    this.#config = config;
    this.#options = options;
    this.log = new Logger(config.logLevel);
    const log = this.log;
    const folder = "settingsFolder" in options ? options.settingsFolder : settingsFolder();
    this.#folder = folder;
    try {
      this.identity = loadIdentity(folder);
    } catch (error) {
      if (error instanceof IdentityError) throw new ServeError(error.message);
      throw error;
    }
    this.shortId = shortId(this.identity.serverId);
    const approvals = Approvals.load(folder, (line) => log.warn(line));
    const pairings = Pairings.load(folder, (line) => log.warn(line));
    // The legacy dialect's id, per worker; the encrypted one is the identity's public key.
    const serverId = `sendspin-party-${this.shortId}`;
    // One worker runs in this process; several are processes of their own. Both get the same
    // byte streams, so --workers 1 takes the multi-worker path.
    const portPerWorker = config.portPerWorker || (config.workers > 1 && !canSharePort(log));
    const workerConfig = (index: number, port: number): WorkerConfig => ({
      index,
      name: config.name,
      serverId: config.serverId ?? `${serverId}-w${index}`,
      host: config.host,
      port,
      reusePort: config.workers > 1 && !portPerWorker,
      assetsDir: ASSETS_DIR,
      logLevel: config.logLevel,
      opusBitrate: config.opusBitrate,
      maxClients: config.maxClients,
      dial: config.clients.filter((url) => url.startsWith("ws")),
      identityKey: this.identity.privateKey,
      guests: config.guests,
      legacy: config.legacy,
      approved: approvals.ids(),
      pairings: pairings.forWorkers(),
      recordClients: config.summary !== undefined,
    });
    try {
      this.#summary = config.summary === undefined ? undefined : new Summary(config.summary, {
        name: config.name,
        serverId: config.serverId ?? serverId,
        encryptedServerId: this.identity.serverId,
      });
    } catch (error) {
      throw new ServeError((error as Error).message);
    }
    const clock = hooks.clock;
    this.pool = new Pool({
      ...hooks,
      count: config.workers,
      port: config.port,
      portPerWorker,
      log,
      onNoneLeft: () => this.#noneLeft.resolve(),
      onClient: (report) => desk.onReport(report),
      onClientSummary: (client) => this.#summary?.add(client),
      spawn: (index, port, onStatus) =>
        config.workers === 1
          ? startInProcessWorker(options.runWorker, workerConfig(index, port), {
            log,
            onStatus,
            clock,
          })
          : startSubprocessWorker(workerConfig(index, port), {
            onStatus,
            onJunk: (line) => log.warn(`worker ${index} wrote: ${line}`),
            clock,
          }),
    });
    const desk = new ClientDesk({
      approvals,
      pairings,
      log,
      broadcast: (message) => this.pool.broadcastClients(message),
      sendTo: (worker, message) => this.pool.sendTo(worker, message),
      tokens: config.pair,
    });
    this.#desk = desk;
  }

  #desk: ClientDesk;

  /** Resolves when every worker keeps crashing: nobody can listen any more. */
  get noneLeft(): Promise<void> {
    return this.#noneLeft.promise;
  }

  /**
   * Starts the workers, prints the banner (with `lines` about the party), and opens the
   * console, the control socket, mDNS and Cast. Throws ServeError if no worker listens.
   */
  async open(lines: string[]): Promise<void> {
    const config = this.#config;
    const options = this.#options;
    const log = this.log;
    try {
      const result = await this.pool.start();
      this.port = result.port;
      result.failures.forEach((reason) => log.error(`a worker could not start: ${reason}`));
    } catch (error) {
      await this.pool.stop();
      throw new ServeError(`Cannot start the server: ${(error as Error).message}`);
    }
    const port = this.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? lanAddress() : config.host;
    this.host = host;
    const print = options.print ?? ((text: string) => console.log(text));
    print(formatBanner(`http://${formatHost(host)}:${port}/`, {
      party: [...lines, ...this.#accessLines()],
    }));
    const stopConsole = new AbortController();
    const operator = new OperatorConsole(this.#desk, log);
    const consoleDone = options.consoleInput
      ? operator.run(options.consoleInput, stopConsole.signal).catch((error) =>
        log.warn(`the console stopped: ${error?.message ?? error}`)
      )
      : undefined;
    this.#closers.push(async () => {
      stopConsole.abort();
      await consoleDone;
    });
    // `sendspin pair` and `sendspin clients` reach the desk here, as the operator only.
    const control = this.#folder ? await serveControl(this.#folder, this.#desk, log) : undefined;
    this.#closers.push(async () => await control?.close());
    // --no-mdns: a harness (or a host on a network that must not hear of it) asked for none.
    const advertised = config.mdns
      ? advertise({
        serverId: `sendspin-party-${this.shortId}`,
        name: config.name,
        port,
        // Only an address other machines can reach is worth announcing; an explicit --host is.
        address: /^\d+\.\d+\.\d+\.\d+$/.test(host) && (host !== "127.0.0.1" || host === config.host)
          ? host
          : undefined,
        log,
      })
      : undefined;
    if (this.pool.slots.length > 1 && (config.portPerWorker || !canShare())) {
      const ports = this.pool.slots.map((s) => s.port).join(", ");
      log.info(`Workers listen on ports ${ports}: put a reverse proxy in front for one URL`);
    }
    const stopCasting = new AbortController();
    const casting = config.clients.filter((url) => url.startsWith("cast:")).map((url) =>
      keepCasting(new URL(url), {
        serverUrl: `http://${formatHost(host)}:${port}`,
        log,
        signal: stopCasting.signal,
      })
    );
    this.#closers.push(async () => {
      stopCasting.abort(); // each Cast device is asked to quit the app, briefly
      await Promise.race([Promise.all(casting), sleepMs(CAST_QUIT_WAIT_MS)]);
      await (await advertised)?.stop();
    });
    options.onReady?.({ port, pool: this.pool });
  }

  /** Closes what `open` opened, then the workers; writes the summary. */
  async close(beforeWorkers?: () => Promise<void>): Promise<void> {
    for (const close of this.#closers) await close();
    await beforeWorkers?.();
    await this.pool.stop();
    try {
      this.#summary?.write();
    } catch (error) {
      throw new ServeError((error as Error).message);
    }
  }

  /** Who may play, and the server's identity, for the banner. */
  #accessLines(): string[] {
    const config = this.#config;
    const identity = this.identity;
    const lines = [
      config.guests === "open"
        ? "Everyone with the link may play: sharing it is your approval (--guests open)."
        : 'Each new encrypted client waits for your approval here: type "a N" (--guests ask).',
      'Your own speakers: type "p N" when one offers pairing, "l" lists clients (see README).',
    ];
    if (!config.legacy) {
      lines.push("Legacy clients (the built-in page too) are refused (--legacy off).");
    }
    lines.push(
      `Server id ${shortId(identity.serverId)}${
        identity.path ? `, kept in ${identity.path}` : " (new: no settings folder)"
      }`,
    );
    return lines;
  }
}

function canShare(): boolean {
  return Deno.build.os === "linux";
}

/** SO_REUSEPORT spreads connections over processes on Linux; elsewhere ports are per worker. */
function canSharePort(log: Logger): boolean {
  if (canShare()) return true;
  log.warn(`${Deno.build.os} cannot share one port between workers: using one port per worker`);
  return false;
}

export function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
