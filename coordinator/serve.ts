/**
 * `sendspin serve`: checks the source, starts the workers, prints the banner, and runs
 * playback while anyone listens, until `signal` aborts (Ctrl+C).
 */
import { fileURLToPath } from "node:url";
import { Logger } from "../protocol/log.ts";
import { systemClock } from "../protocol/clock.ts";
import { formatBanner, lanAddress } from "./banner.ts";
import { advertise } from "./discovery/mdns.ts";
import { keepCasting } from "./cast/cast_device.ts";
import { sleepMs } from "../protocol/sleep.ts";
import type { ServeConfig } from "./config.ts";
import type { TrackTags } from "../protocol/tags.ts";
import { Party } from "./party.ts";
import { resolveTracks, type Track } from "./playlist/tracks.ts";
import { hasFfmpeg } from "./sources/ffmpeg.ts";
import { createSource, type Source } from "./sources/source.ts";
import { SourceError } from "./sources/source_error.ts";
import { startSubprocessWorker } from "./subprocess_worker.ts";
import { Timeline } from "./timeline.ts";
import { WorkerPool } from "./worker_pool.ts";
import { startInProcessWorker } from "./in_process_worker.ts";
import type { RunWorker, WorkerConfig } from "../protocol/worker_config.ts";
import { Approvals } from "./clients/approvals.ts";
import { Pairings } from "./clients/pairings.ts";
import { ClientDesk } from "./clients/client_desk.ts";
import { serveControl } from "./control/control_socket.ts";
import { type Identity, IdentityError, loadIdentity, shortId } from "./identity.ts";
import { OperatorConsole } from "./operator_console.ts";
import { Covers } from "./artwork/covers.ts";
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

export interface ServeOptions {
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

export async function serve(config: ServeConfig, options: ServeOptions): Promise<void> {
  const log = new Logger(config.logLevel);
  const print = options.print ?? ((text: string) => console.log(text));
  const { tracks, useFfmpeg, tags } = await openCheckedSource(config, log, options.signal);
  if (options.signal.aborted) return; // Ctrl+C while the source was being checked

  const folder = "settingsFolder" in options ? options.settingsFolder : settingsFolder();
  let identity: Identity;
  try {
    identity = loadIdentity(folder);
  } catch (error) {
    if (error instanceof IdentityError) throw new ServeError(error.message);
    throw error;
  }
  const approvals = Approvals.load(folder, (line) => log.warn(line));
  const pairings = Pairings.load(folder, (line) => log.warn(line));
  // The legacy dialect's id, per worker; the encrypted one is the identity's public key.
  const serverId = `sendspin-party-${shortId(identity.serverId)}`;
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
    identityKey: identity.privateKey,
    guests: config.guests,
    legacy: config.legacy,
    approved: approvals.ids(),
    pairings: pairings.forWorkers(),
    recordClients: config.summary !== undefined,
  });
  let summary: Summary | undefined;
  try {
    summary = config.summary === undefined ? undefined : new Summary(config.summary, {
      name: config.name,
      serverId: config.serverId ?? serverId,
      encryptedServerId: identity.serverId,
    });
  } catch (error) {
    throw new ServeError((error as Error).message);
  }
  let party: Party | undefined = undefined;
  const noneLeft = Promise.withResolvers<void>();
  const workers: WorkerPool = new WorkerPool({
    count: config.workers,
    port: config.port,
    portPerWorker,
    log,
    // A listener joining while we shut down must not start playback again.
    onTotal: (total) => !options.signal.aborted && party?.setWanted(total > 0),
    onCommand: (command) => {
      party?.command(command).catch((error) => log.error(`${command} failed: ${error}`));
    },
    onNoneLeft: () => noneLeft.resolve(),
    onClient: (report) => desk.onReport(report),
    onClientSummary: (client) => summary?.add(client),
    spawn: (index, port, onStatus) =>
      config.workers === 1
        ? startInProcessWorker(options.runWorker, workerConfig(index, port), { log, onStatus })
        : startSubprocessWorker(workerConfig(index, port), {
          onStatus,
          onJunk: (line) => log.warn(`worker ${index} wrote: ${line}`),
        }),
  });
  const desk = new ClientDesk({
    approvals,
    pairings,
    log,
    broadcast: (message) => workers.broadcastClients(message),
    sendTo: (worker, message) => workers.sendTo(worker, message),
    tokens: config.pair,
  });
  const operator = new OperatorConsole(desk, log);
  const covers = new Covers({ send: (image) => workers.broadcastArtwork(image), log });
  const timeline = new Timeline({ clock: systemClock, emit: (c) => workers.broadcastChunk(c) });
  party = new Party({
    withArtwork: (path, nowPlaying) => covers.withArtwork(path, nowPlaying),
    tracks,
    useFfmpeg,
    timeline,
    clock: systemClock,
    log,
    shuffle: config.shuffle,
    once: config.once,
    announce: (nowPlaying) => workers.broadcastNowPlaying(nowPlaying),
    onStopped: (cut) => cut ? workers.broadcastCleared() : workers.broadcastStopped(),
  });
  await party.prepare(tags);
  party.announceNow();

  let port: number;
  try {
    const result = await workers.start();
    port = result.port;
    result.failures.forEach((reason) => log.error(`a worker could not start: ${reason}`));
  } catch (error) {
    await workers.stop();
    throw new ServeError(`Cannot start the server: ${(error as Error).message}`);
  }

  const host = config.host === "0.0.0.0" || config.host === "::" ? lanAddress() : config.host;
  print(formatBanner(`http://${formatHost(host)}:${port}/`, {
    party: partyLines(config, identity),
  }));
  const stopConsole = new AbortController();
  const consoleDone = options.consoleInput
    ? operator.run(options.consoleInput, stopConsole.signal).catch((error) =>
      log.warn(`the console stopped: ${error?.message ?? error}`)
    )
    : undefined;
  // `sendspin pair` and `sendspin clients` reach the desk here, as the operator only.
  const control = folder ? await serveControl(folder, desk, log) : undefined;
  // --no-mdns: a harness (or a host on a network that must not hear of it) asked for none.
  const advertised = config.mdns
    ? advertise({
      serverId,
      name: config.name,
      port,
      // Only an address other machines can reach is worth announcing; an explicit --host is.
      address: /^\d+\.\d+\.\d+\.\d+$/.test(host) && (host !== "127.0.0.1" || host === config.host)
        ? host
        : undefined,
      log,
    })
    : undefined;
  if (portPerWorker && config.workers > 1) {
    const ports = workers.slots.map((s) => s.port).join(", ");
    log.info(`Workers listen on ports ${ports}: put a reverse proxy in front for one URL`);
  }
  log.info(`Playing ${party.label} whenever someone listens`);
  const stopCasting = new AbortController();
  const casting = config.clients.filter((url) => url.startsWith("cast:")).map((url) =>
    keepCasting(new URL(url), {
      serverUrl: `http://${formatHost(host)}:${port}`,
      log,
      signal: stopCasting.signal,
    })
  );
  options.onReady?.({ port, pool: workers });

  const stopped = new Promise<"stop">((resolve) => {
    if (options.signal.aborted) resolve("stop");
    options.signal.addEventListener("abort", () => resolve("stop"), { once: true });
  });
  const why = await Promise.race([
    stopped,
    noneLeft.promise.then(() => "no workers" as const),
    party.ended.then(() => "ended" as const),
  ]);
  if (why === "stop") log.info("Shutting down...");
  if (why === "ended") log.info("Played everything once (--once): stopping");
  stopConsole.abort();
  await consoleDone;
  await control?.close();
  stopCasting.abort(); // each Cast device is asked to quit the app, briefly
  await Promise.race([Promise.all(casting), sleepMs(CAST_QUIT_WAIT_MS)]);
  await (await advertised)?.stop();
  await party.setWanted(false);
  await workers.stop();
  try {
    summary?.write();
  } catch (error) {
    throw new ServeError((error as Error).message);
  }
  if (why === "no workers") {
    throw new ServeError("every worker keeps crashing: nobody can listen, so the server stops");
  }
}

/** Who may play, and the server's identity, for the banner. */
function partyLines(config: ServeConfig, identity: Identity): string[] {
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

/** SO_REUSEPORT spreads connections over processes on Linux; elsewhere ports are per worker. */
function canSharePort(log: Logger): boolean {
  if (Deno.build.os === "linux") return true;
  log.warn(`${Deno.build.os} cannot share one port between workers: using one port per worker`);
  return false;
}

/**
 * Finds the tracks and opens a single source once before anything listens, so a bad source
 * fails at start-up; inside a playlist, a track that cannot play is skipped when its turn comes.
 */
async function openCheckedSource(
  config: ServeConfig,
  log: Logger,
  signal: AbortSignal,
): Promise<{ tracks: Track[]; useFfmpeg: boolean; tags?: TrackTags }> {
  const useFfmpeg = config.source.kind !== "demo" && await hasFfmpeg();
  if (config.source.kind !== "demo" && !useFfmpeg) {
    log.info("ffmpeg is not installed: using the built-in decoders (WAV, FLAC, MP3, Ogg)");
  }
  let tracks: Track[];
  let source: Source;
  let tags: TrackTags | undefined;
  try {
    tracks = await resolveTracks(config.source, (line) => log.warn(line));
    source = createSource(tracks[0].spec, { useFfmpeg, onTags: (seen) => tags = seen });
  } catch (error) {
    if (error instanceof SourceError) throw new ServeError(error.message);
    throw error;
  }
  if (tracks.length > 1 || config.source.kind === "demo") return { tracks, useFfmpeg };
  const checked = () => ({ tracks, useFfmpeg, tags });
  const probe = new AbortController();
  const cancel = () => probe.abort();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    for await (const _block of source.decode(probe.signal)) break;
  } catch (error) {
    if (signal.aborted) return checked(); // Ctrl+C during the check: no error to report
    throw new ServeError(`Cannot play ${tracks[0].label}: ${(error as Error).message}`);
  } finally {
    signal.removeEventListener("abort", cancel);
    probe.abort();
  }
  return checked();
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
