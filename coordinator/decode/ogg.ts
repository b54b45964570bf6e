/**
 * Ogg Vorbis and Ogg Opus via the wasm decoders. We split pages ourselves to read the comment
 * header (tags), to skip streams we don't play (skeleton, video) and to follow chained
 * streams, as internet radio sends them: each new track is a new logical stream.
 */
import { OggVorbisDecoder } from "@wasm-audio-decoders/ogg-vorbis";
import { OggOpusDecoder } from "ogg-opus-decoder";
import { ByteReader } from "./byte_reader.ts";
import { defaultSpeakers } from "./downmix.ts";
import { OggHeaderPackets, type OggPage, readOggPage } from "./ogg_pages.ts";
import { hasTags, parseVorbisComment } from "./tags.ts";
import { type DecodeOptions, type FloatPcmBlock, UnsupportedFormatError } from "./types.ts";

type Codec = "vorbis" | "opus";

/** First bytes of each codec's identification and comment header packets. */
const SIGNATURES: Record<Codec, { id: string; comment: string }> = {
  vorbis: { id: "\x01vorbis", comment: "\x03vorbis" },
  opus: { id: "OpusHead", comment: "OpusTags" },
};
const OTHER_CODECS: Record<string, string> = {
  "\x7fFLAC": "FLAC",
  "Speex   ": "Speex",
  "\x80theora": "Theora video",
  "fishead\0": "a skeleton",
};
/** Comment packets are cut here; the tags we want come before any embedded cover art. */
const MAX_COMMENT_BYTES = 1 << 20;

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
}

interface CodecDecoder {
  ready: Promise<void>;
  decode(bytes: Uint8Array): Promise<Decoded> | Decoded;
  flush(): Promise<Decoded>;
  free(): void;
}

interface LogicalStream {
  codec: Codec;
  serial: number;
  headers: OggHeaderPackets;
  hasAudio: boolean;
  ended: boolean;
}

/** Decodes an Ogg byte stream carrying Vorbis or Opus (also chained) into float blocks. */
export async function* decodeOgg(
  bytes: AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<FloatPcmBlock> {
  const reader = ByteReader.from(bytes, options.signal);
  let stream: LogicalStream | undefined;
  let decoder: CodecDecoder | undefined;
  const skippedCodecs: string[] = [];
  try {
    for (let page = await readOggPage(reader); page; page = await readOggPage(reader)) {
      if (options.signal?.aborted) return;
      if (page.isFirst && (!stream || stream.ended || stream.hasAudio)) {
        const codec = identify(page, skippedCodecs);
        if (codec) {
          if (decoder && stream && !stream.ended) yield* toBlocks(await decoder.flush());
          if (decoder && stream?.codec !== codec) {
            decoder.free();
            decoder = undefined;
          }
          decoder ??= await createDecoder(codec);
          stream = {
            codec,
            serial: page.serial,
            headers: new OggHeaderPackets(2, MAX_COMMENT_BYTES),
            hasAudio: false,
            ended: false,
          };
        } else if (!stream) {
          continue; // e.g. a skeleton or video stream's header before the audio's
        }
      }
      if (!stream || !decoder) throw noAudioError(skippedCodecs);
      if (page.serial !== stream.serial || stream.ended) continue;
      readTags(stream, page, options);
      const blocks = toBlocks(await decoder.decode(page.bytes));
      for (const block of blocks) {
        stream.hasAudio = true;
        yield block;
      }
      if (page.isLast) {
        stream.ended = true;
        yield* toBlocks(await decoder.flush());
      }
    }
    if (!stream && !options.signal?.aborted) throw noAudioError(skippedCodecs);
    if (decoder && stream && !stream.ended && !options.signal?.aborted) {
      yield* toBlocks(await decoder.flush());
    }
  } finally {
    decoder?.free();
  }
}

function noAudioError(skippedCodecs: string[]): UnsupportedFormatError {
  const codecs = skippedCodecs.join(" and ");
  return new UnsupportedFormatError(
    codecs
      ? `Cannot decode the Ogg source: it carries ${codecs}, not Vorbis or Opus`
      : "Cannot decode the Ogg source: it has no Vorbis or Opus headers (cut or joined mid-stream)",
  );
}

function identify(page: OggPage, skippedCodecs: string[]): Codec | undefined {
  const start = String.fromCharCode(...page.body.subarray(0, 8));
  for (const codec of ["vorbis", "opus"] as const) {
    if (start.startsWith(SIGNATURES[codec].id)) return codec;
  }
  const other = Object.entries(OTHER_CODECS).find(([signature]) => start.startsWith(signature));
  skippedCodecs.push(other?.[1] ?? "an unknown codec");
  return undefined;
}

async function createDecoder(codec: Codec): Promise<CodecDecoder> {
  // forceStereo: libopus itself mixes mono and surround Opus to stereo.
  const decoder = codec === "opus"
    ? new OggOpusDecoder({ forceStereo: true })
    : new OggVorbisDecoder();
  await decoder.ready;
  return decoder;
}

function readTags(stream: LogicalStream, page: OggPage, options: DecodeOptions): void {
  if (stream.headers.complete) return;
  stream.headers.push(page);
  if (!stream.headers.complete) return;
  const prefix = SIGNATURES[stream.codec].comment;
  const packet = stream.headers.packets[1];
  if (String.fromCharCode(...packet.subarray(0, prefix.length)) !== prefix) return;
  const tags = parseVorbisComment(packet.subarray(prefix.length));
  if (hasTags(tags)) options.onTags?.(tags);
}

function* toBlocks(decoded: Decoded): Generator<FloatPcmBlock> {
  const { channelData, samplesDecoded, sampleRate } = decoded;
  if (samplesDecoded === 0 || channelData.length === 0) return;
  yield {
    kind: "float",
    sampleRate,
    channels: channelData,
    speakers: channelData.length > 2 ? defaultSpeakers(channelData.length, "vorbis") : undefined,
  };
}
