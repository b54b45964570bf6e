/**
 * `sendspin serve`: checks the source, starts the workers, prints the banner, and runs
 * playback while anyone listens, until `signal` aborts (Ctrl+C).
 */
import { encodeDown, type UpMessage } from "../protocol/ipc.ts";
import { Logger } from "../protocol/log.ts";
import { systemClock } from "../protocol/clock.ts";
import type { TrackTags } from "../protocol/tags.ts";
import { formatBanner, lanAddress } from "./banner.ts";
import type { ServeConfig } from "./config.ts";
import { Playback } from "./playback.ts";
import { hasFfmpeg } from "./sources/ffmpeg.ts";
import { createSource, type Source } from "./sources/source.ts";
import { SourceError } from "./sources/source_error.ts";
import { Timeline } from "./timeline.ts";
import { startInProcessWorker, type WorkerLink } from "./worker_link.ts";

export const ASSETS_DIR = new URL("../web/", import.meta.url);
/** How long workers get to close their listeners cleanly on shutdown. */
const WORKER_STOP_TIMEOUT_MS = 2_000;

/** Thrown when the server cannot start; `message` is the one line to show. */
export class StartupError extends Error {}

export interface ServeOptions {
  signal: AbortSignal;
  /** Where the banner goes; default stdout. */
  print?: (text: string) => void;
  /** Called once the server accepts listeners, with the port it listens on. */
  onReady?: (info: { port: number }) => void;
}

export async function serve(config: ServeConfig, options: ServeOptions): Promise<void> {
  const log = new Logger(config.logLevel);
  const print = options.print ?? ((text: string) => console.log(text));
  let tags: TrackTags = {};
  const workers: WorkerLink[] = [];
  const source = await openCheckedSource(config, log, (next) => {
    tags = next;
    for (const worker of workers) worker.send({ type: "metadata", tags });
  });

  const counts: number[] = [];
  const broadcast = (frame: Uint8Array) => workers.forEach((w) => w.sendFrame(frame));
  const timeline = new Timeline({
    clock: systemClock,
    emit: (chunk) => broadcast(encodeDown({ type: "chunk", ...chunk })),
  });
  const playback = new Playback({
    source,
    timeline,
    log,
    onStopped: () => broadcast(encodeDown({ type: "stopped" })),
  });
  const reports = new Map<number, (message: UpMessage) => void>();
  const onStatus = (message: UpMessage) => {
    switch (message.type) {
      case "listening":
      case "failed":
        return reports.get(message.worker)?.(message);
      case "client-joined":
      case "client-left": {
        const verb = message.type === "client-joined" ? "joined" : "left";
        return log.info(`Client ${verb}: ${message.name} (${message.clientId})`);
      }
      case "listeners": {
        counts[message.worker] = message.count;
        const total = counts.reduce((a, b) => a + (b ?? 0), 0);
        broadcast(encodeDown({ type: "totals", total, perWorker: counts }));
        playback.setWanted(total > 0);
        return;
      }
      case "error":
        return log.error(`worker ${message.worker}: ${message.message}`);
    }
  };

  const serverId = `sendspin-party-${crypto.randomUUID().slice(0, 8)}`;
  const firstReports = [0].map((index) => {
    const report = new Promise<UpMessage>((resolve) => reports.set(index, resolve));
    counts[index] = 0;
    const link = startInProcessWorker(index, {
      name: config.name,
      serverId: `${serverId}-w${index}`,
      host: config.host,
      port: config.port,
      reusePort: false,
      assetsDir: ASSETS_DIR,
      log,
      opusBitrate: config.opusBitrate,
      onStatus,
    });
    workers.push(link);
    link.send({ type: "metadata", tags });
    const stoppedEarly: UpMessage = { type: "failed", worker: index, reason: "it stopped" };
    return Promise.race([report, link.exited.then(() => stoppedEarly)]);
  });
  const listening = await Promise.all(firstReports);
  const started = listening.filter((m) => m.type === "listening");
  for (const failure of listening) {
    if (failure.type === "failed") log.error(`worker ${failure.worker}: ${failure.reason}`);
  }
  if (started.length === 0) {
    const reason = listening[0]?.type === "failed" ? listening[0].reason : "no worker started";
    await Promise.all(workers.map((w) => w.exited));
    throw new StartupError(`Cannot start the server: ${reason}`);
  }

  const host = config.host === "0.0.0.0" || config.host === "::" ? lanAddress() : config.host;
  const port = started[0].type === "listening" ? started[0].port : config.port;
  print(formatBanner(`http://${formatHost(host)}:${port}/`));
  log.info(`Playing ${source.label} whenever someone listens`);
  options.onReady?.({ port });
  if (tags.title) log.info(`Now playing: ${[tags.artist, tags.title].filter(Boolean).join(" - ")}`);

  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  log.info("Shutting down...");
  await playback.setWanted(false);
  for (const worker of workers) worker.send({ type: "shutdown" });
  const stopped = Promise.all(workers.map((w) => w.exited));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([stopped, new Promise((r) => timer = setTimeout(r, WORKER_STOP_TIMEOUT_MS))]);
  clearTimeout(timer);
}

/** Opens the source once before anything listens, so a bad source fails at start-up. */
async function openCheckedSource(
  config: ServeConfig,
  log: Logger,
  onTags: (tags: TrackTags) => void,
): Promise<Source> {
  const useFfmpeg = config.source.kind !== "demo" && await hasFfmpeg();
  if (config.source.kind !== "demo" && !useFfmpeg) {
    log.info("ffmpeg is not installed: using the built-in decoders (WAV, FLAC, MP3, Ogg)");
  }
  let source: Source;
  try {
    source = createSource(config.source, { useFfmpeg, onTags });
  } catch (error) {
    if (error instanceof SourceError) throw new StartupError(error.message);
    throw error;
  }
  if (config.source.kind === "demo") return source;
  const probe = new AbortController();
  try {
    for await (const _block of source.decode(probe.signal)) break;
  } catch (error) {
    throw new StartupError(`Cannot play ${source.label}: ${(error as Error).message}`);
  } finally {
    probe.abort();
  }
  return source;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
