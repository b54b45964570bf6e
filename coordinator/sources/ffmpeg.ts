/**
 * Decoding with ffmpeg: anything it opens (files, http streams, HLS, devices with an input
 * format), first audio stream, at its own rate and channels (two at most) as s16le or s24le
 * on its stdout (ffprobe says which, see ffprobe.ts). Tags and stream titles are read from
 * its log.
 */
import { type AudioBlock, bytesPerFrame, type PcmFormat } from "../../protocol/pcm.ts";
import { probeFormat } from "./ffprobe.ts";
import type { TrackTags } from "../../protocol/tags.ts";
import { splitStreamTitle } from "../decode/icy.ts";
import { SourceError } from "./source_error.ts";
import { concat } from "../../protocol/concat.ts";

export interface FfmpegOptions {
  /** ffmpeg input format (`-f`), e.g. alsa or pulse. */
  inputFormat?: string;
  signal?: AbortSignal;
  onTags?: (tags: TrackTags) => void;
}

/** True when an `ffmpeg` can be run from PATH. */
export async function hasFfmpeg(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("ffmpeg", {
      args: ["-version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

export function ffmpegArgs(input: string, format: PcmFormat, inputFormat?: string): string[] {
  const sampleFormat = format.bitDepth === 24 ? "s24le" : "s16le";
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    // ffmpeg 5 logs a station's later ICY StreamTitle changes only at verbose.
    /^https?:/i.test(input) ? "verbose" : "info",
    ...(inputFormat ? ["-f", inputFormat] : []),
    "-i",
    input,
    "-map",
    "0:a:0",
    "-vn",
    "-f",
    sampleFormat,
    "-acodec",
    `pcm_${sampleFormat}`,
    "-ar",
    String(format.sampleRate),
    "-ac",
    String(format.channels),
    "pipe:1",
  ];
}

/** Yields PCM blocks until ffmpeg ends; throws SourceError with ffmpeg's own reason. */
export async function* decodeWithFfmpeg(
  input: string,
  options: FfmpegOptions = {},
): AsyncGenerator<AudioBlock> {
  const format = await probeFormat(input, options.inputFormat);
  if (options.signal?.aborted) return;
  const frameBytes = bytesPerFrame(format);
  const child = new Deno.Command("ffmpeg", {
    args: ffmpegArgs(input, format, options.inputFormat),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  };
  options.signal?.addEventListener("abort", kill, { once: true });
  const log = followFfmpegLog(child.stderr, options.onTags);
  let carry: Uint8Array | undefined;
  try {
    for await (const piece of child.stdout) {
      let bytes = carry ? concat(carry, piece) : piece;
      const usable = bytes.byteLength - (bytes.byteLength % frameBytes);
      carry = usable < bytes.byteLength ? bytes.slice(usable) : undefined;
      bytes = bytes.slice(0, usable);
      if (usable > 0) yield { format, pcm: bytes };
    }
    const status = await child.status;
    const lastError = await log;
    if (!status.success && !options.signal?.aborted) {
      if (status.signal) throw new SourceError(`ffmpeg was stopped (${status.signal})`);
      throw new SourceError(`ffmpeg could not play it: ${lastError || `exit ${status.code}`}`);
    }
  } finally {
    options.signal?.removeEventListener("abort", kill);
    kill();
  }
}

const TAG_LINE = /^\s{4,}(title|artist|album|StreamTitle)\s*:\s*(.+)$/i;
/** An ICY title change mid-stream, as ffmpeg's http input logs it at verbose. */
const ICY_UPDATE = /Metadata update for StreamTitle:\s*(.+)$/;
const ERROR_HINT = /error|failed|refused|invalid|no such|not found|denied|unable|does not/i;

/**
 * Follows ffmpeg's log for tags; resolves with the most telling error line, if any. The
 * input's tags are reported once, whole, when ffmpeg has printed them all (at "Stream
 * mapping"), not field by field: a client must never see a title without its artist. Stream
 * titles that come later (ICY) are reported as they change.
 */
export async function followFfmpegLog(
  stderr: ReadableStream<Uint8Array>,
  onTags?: (tags: TrackTags) => void,
): Promise<string> {
  let tags: TrackTags = {};
  let announced = false;
  let inOutput = false;
  let lastError = "";
  let pending = "";
  const announce = () => {
    announced = true;
    if (tags.title !== undefined || tags.artist !== undefined || tags.album !== undefined) {
      onTags?.(tags);
    }
  };
  for await (const text of stderr.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const lines = pending.split(/\r?\n|\r/);
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!announced && (line.startsWith("Stream mapping") || line.startsWith("Output #"))) {
        announce();
      }
      if (line.startsWith("Output #")) inOutput = true;
      if (ERROR_HINT.test(line)) lastError = line.trim();
      const update = ICY_UPDATE.exec(line);
      if (update) {
        tags = splitStreamTitle(update[1].trim());
        if (announced) onTags?.(tags);
        continue;
      }
      const match = !inOutput || /StreamTitle/i.test(line) ? TAG_LINE.exec(line) : null;
      if (!match) continue;
      const key = match[1].toLowerCase();
      const value = match[2].trim();
      if (key === "streamtitle") tags = splitStreamTitle(value);
      else tags = { ...tags, [key]: value };
      if (announced) onTags?.(tags);
    }
  }
  if (!announced) announce();
  return lastError;
}
