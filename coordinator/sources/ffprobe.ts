/**
 * What ffmpeg should give the timeline for an input: its first audio stream's own rate and
 * channels (at most two) at the carried depth (protocol/pcm.ts), learnt with ffprobe (it
 * ships with ffmpeg). An input ffprobe cannot read gets the demo's format, and ffmpeg itself
 * then says what is wrong with it.
 */
import {
  carriedBitDepth,
  DEMO_FORMAT,
  type PcmFormat,
  pcmFormatProblem,
} from "../../protocol/pcm.ts";

/** A stream that does not answer ffprobe this fast is decoded at the demo's format. */
const PROBE_TIMEOUT_MS = 10_000;

interface ProbedStream {
  sample_rate?: string;
  channels?: number;
  sample_fmt?: string;
  bits_per_raw_sample?: string;
}

/** The format to ask ffmpeg for; never throws. */
export async function probeFormat(input: string, inputFormat?: string): Promise<PcmFormat> {
  try {
    const { success, stdout } = await new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        ...(inputFormat ? ["-f", inputFormat] : []),
        "-select_streams",
        "a:0",
        "-show_entries",
        "stream=sample_rate,channels,sample_fmt,bits_per_raw_sample",
        "-of",
        "json",
        input,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    }).output();
    if (!success) return DEMO_FORMAT;
    const stream: ProbedStream | undefined = JSON.parse(new TextDecoder().decode(stdout))
      .streams?.[0];
    return stream ? formatOf(stream) : DEMO_FORMAT;
  } catch {
    return DEMO_FORMAT; // no ffprobe, or it hung: ffmpeg still plays it, resampled
  }
}

/** 8- and 16-bit sample formats stay 16-bit; deeper integers and floats become 24-bit. */
export function formatOf(stream: ProbedStream): PcmFormat {
  const rawBits = Number(stream.bits_per_raw_sample ?? 0);
  const fmt = (stream.sample_fmt ?? "").replace(/p$/, "");
  const sourceBits = fmt === "u8" || fmt === "s16" ? 16 : rawBits > 0 ? rawBits : 32;
  const format: PcmFormat = {
    sampleRate: Number(stream.sample_rate),
    bitDepth: carriedBitDepth(sourceBits),
    channels: stream.channels === 1 ? 1 : 2,
  };
  return pcmFormatProblem(format) ? { ...DEMO_FORMAT, bitDepth: format.bitDepth } : format;
}
