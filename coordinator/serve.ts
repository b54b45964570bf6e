/**
 * `sendspin serve`: checks the source, starts the workers, prints the banner, and runs
 * playback while anyone listens, until `signal` aborts (Ctrl+C).
 */
import { Logger } from "../protocol/log.ts";
import { systemClock } from "../protocol/clock.ts";
import type { ServeConfig } from "./config.ts";
import type { TrackTags } from "../protocol/tags.ts";
import { Party } from "./party.ts";
import { resolveTracks, type Track } from "./playlist/tracks.ts";
import { hasFfmpeg } from "./sources/ffmpeg.ts";
import { createSource, type Source } from "./sources/source.ts";
import { SourceError } from "./sources/source_error.ts";
import { Timeline } from "./timeline.ts";
import { Covers } from "./artwork/covers.ts";
import { Room, type RoomOptions, ServeError } from "./room.ts";
import { OriginLink } from "./rooms/origin_link.ts";
import { NatsUnavailableError } from "./rooms/nats_connection.ts";

export { ASSETS_DIR, ServeError } from "./room.ts";

export type ServeOptions = RoomOptions;

export async function serve(config: ServeConfig, options: ServeOptions): Promise<void> {
  const log = new Logger(config.logLevel);
  const { tracks, useFfmpeg, tags } = await openCheckedSource(config, log, options.signal);
  if (options.signal.aborted) return; // Ctrl+C while the source was being checked

  let party: Party | undefined = undefined;
  let edges: OriginLink | undefined = undefined;
  const room: Room = new Room(config, options, {
    // A listener joining while we shut down must not start playback again.
    onTotal: (total) => !options.signal.aborted && party?.setWanted(total > 0),
    onCommand: (command) => {
      party?.command(command).catch((error) => log.error(`${command} failed: ${error}`));
    },
    onGroupVolume: (change) => edges?.groupVolume(change),
    onRoomChange: () => edges?.roomChanged(),
    ...(config.edges ? { room: { name: config.name, role: "origin" as const } } : {}),
  });
  const workers = room.pool;
  if (config.edges) {
    try {
      edges = await OriginLink.open({
        target: config.edges,
        party: room.shortId,
        name: config.name,
        log,
        pool: workers,
        onCommand: (command) => {
          party?.command(command).catch((error) => log.error(`${command} failed: ${error}`));
        },
      });
    } catch (error) {
      if (error instanceof NatsUnavailableError) throw new ServeError(error.message);
      throw error;
    }
  }
  const covers = new Covers({
    send: (image) => {
      const frame = workers.broadcastArtwork(image);
      if (frame) edges?.artwork(frame);
    },
    log,
  });
  const timeline = new Timeline({
    clock: systemClock,
    emit: (chunk) => {
      const frame = workers.broadcastChunk(chunk);
      edges?.chunk(chunk, frame);
    },
  });
  party = new Party({
    withArtwork: (path, nowPlaying) => covers.withArtwork(path, nowPlaying),
    tracks,
    useFfmpeg,
    timeline,
    clock: systemClock,
    log,
    shuffle: config.shuffle,
    once: config.once,
    announce: (nowPlaying) => {
      workers.broadcastNowPlaying(nowPlaying);
      edges?.nowPlaying(nowPlaying);
    },
    onStopped: (cut) => {
      if (cut) workers.broadcastCleared();
      else workers.broadcastStopped();
      edges?.stopped(cut);
    },
  });
  await party.prepare(tags);
  party.announceNow();

  try {
    await room.open(
      edges
        ? [`Other rooms join with: sendspin edge ${edges.address} (party ${room.shortId})`]
        : [],
    );
  } catch (error) {
    await edges?.close();
    throw error;
  }
  log.info(`Playing ${party.label} whenever someone listens`);

  const stopped = new Promise<"stop">((resolve) => {
    if (options.signal.aborted) resolve("stop");
    options.signal.addEventListener("abort", () => resolve("stop"), { once: true });
  });
  const why = await Promise.race([
    stopped,
    room.noneLeft.then(() => "no workers" as const),
    party.ended.then(() => "ended" as const),
  ]);
  if (why === "stop") log.info("Shutting down...");
  if (why === "ended") log.info("Played everything once (--once): stopping");
  await room.close(async () => {
    await party.setWanted(false);
    await edges?.close();
  });
  if (why === "no workers") {
    throw new ServeError("every worker keeps crashing: nobody can listen, so the server stops");
  }
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
