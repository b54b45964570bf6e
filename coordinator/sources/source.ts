/**
 * A playable source: the demo, or a file / URL / device decoded by ffmpeg when it is on
 * PATH, else by the built-in decoders. Every source yields blocks in its own format
 * (protocol/pcm.ts: its rate, 16 or 24 bits, mono or stereo); the demo's is 48k/16/2.
 */
import { type AudioBlock, s16Block } from "../../protocol/pcm.ts";
import type { TrackTags } from "../../protocol/tags.ts";
import type { SourceSpec } from "../config.ts";
import { DEMO_TAGS, renderDemo } from "./demo.ts";
import { decodeWithFfmpeg } from "./ffmpeg.ts";
import { decodeBuiltinSource } from "./builtin_source.ts";
import { SourceError } from "./source_error.ts";

export interface Source {
  /** For the log: what plays and through which decoder. */
  readonly label: string;
  /** A live source (stream, device) reconnects when it ends; a file loops. */
  readonly live: boolean;
  decode(signal: AbortSignal): AsyncIterable<AudioBlock>;
}

/** What one track is: a playlist or folder is resolved into these first (playlist/tracks.ts). */
export type TrackSpec = Exclude<SourceSpec, { kind: "folder" | "playlist" }>;

export interface SourceOptions {
  /** Decode with ffmpeg (true when it is on PATH). */
  useFfmpeg: boolean;
  onTags: (tags: TrackTags) => void;
}

/** Frames per demo block: a few chunks, so the timeline paces it like any decoder. */
const DEMO_BLOCK_FRAMES = 9_600;

export function createSource(spec: TrackSpec, options: SourceOptions): Source {
  const { useFfmpeg, onTags } = options;
  switch (spec.kind) {
    case "demo":
      renderDemo(0, 0); // renders the loop now, not when the first guest is waiting
      return { label: "the built-in demo", live: false, decode: () => demoBlocks(onTags) };
    case "device":
      if (!useFfmpeg) {
        throw new SourceError(
          `--source-format ${spec.format} needs ffmpeg, which is not installed: install ffmpeg`,
        );
      }
      return {
        label: `${spec.format} input ${spec.input} (ffmpeg)`,
        live: true,
        decode: (signal) =>
          decodeWithFfmpeg(spec.input, { inputFormat: spec.format, signal, onTags }),
      };
    case "file":
    case "url": {
      const input = spec.kind === "file" ? spec.path : spec.url;
      const live = spec.kind === "url";
      const decode = useFfmpeg
        ? (signal: AbortSignal) => decodeWithFfmpeg(input, { signal, onTags })
        : (signal: AbortSignal) => decodeBuiltinSource(spec, { signal, onTags });
      return {
        label: `${input} (${useFfmpeg ? "ffmpeg" : "built-in decoder"})`,
        live,
        decode: spec.kind === "file" ? (signal) => stillThere(spec.path, decode(signal)) : decode,
      };
    }
  }
}

/** Each pass over a looping file first checks it is still there, to say so plainly if not. */
async function* stillThere(
  path: string,
  blocks: AsyncIterable<AudioBlock>,
): AsyncGenerator<AudioBlock> {
  try {
    await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new SourceError(`${path} is gone (deleted or moved?): put it back and it plays again`);
  }
  yield* blocks;
}

async function* demoBlocks(onTags: (tags: TrackTags) => void): AsyncGenerator<AudioBlock> {
  onTags(DEMO_TAGS);
  for (let frame = 0;; frame += DEMO_BLOCK_FRAMES) {
    yield s16Block(renderDemo(frame, DEMO_BLOCK_FRAMES));
  }
}
