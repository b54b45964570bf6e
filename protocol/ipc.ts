/**
 * Messages between the coordinator and its workers. Downward (coordinator → worker, stdin)
 * they are length-prefixed binary frames because they carry PCM; upward (worker → coordinator,
 * stdout) they are status lines of JSON. Commands are imperative, events past tense, and every
 * upward message names its worker.
 */
import type { NowPlaying, PartyCommand } from "./now_playing.ts";
import type { ClientSummary } from "./client_summary.ts";
import { bytesPerFrame, type PcmFormat, pcmFormatProblem } from "./pcm.ts";
import { concat } from "./concat.ts";
import type { PairedClient, WorkerConfig } from "./worker_config.ts";
import type { PairMethod } from "./pairing/methods.ts";

export type DownMessage =
  /** Always the first frame: what the worker serves (see worker_config.ts). */
  | { type: "configure"; config: WorkerConfig }
  /**
   * PCM in `format` (the source's own) starting at `playAtUs`; a new `segment` starts a new
   * timeline anchor, a new `format` within a segment starts exactly where the previous ended.
   */
  | { type: "chunk"; segment: number; playAtUs: number; format: PcmFormat; pcm: Uint8Array }
  /** What plays from `nowPlaying.atUs` on (announced ahead: workers tell clients then). */
  | { type: "now-playing"; nowPlaying: NowPlaying }
  /**
   * A cover image, sent before the now-playing that names it (`artworkPath` ends in `key`).
   * Binary: at most MAX_ARTWORK_BYTES, so it fits one frame.
   */
  | { type: "artwork"; key: string; mime: string; bytes: Uint8Array }
  /** The timeline stopped (no listeners, or the source is gone): drop buffered audio. */
  | { type: "stopped" }
  /**
   * The audio ahead was dropped (next, previous): clients clear their buffers and keep the
   * stream (stream/clear); new chunks follow at a fresh anchor.
   */
  | { type: "cleared" }
  /**
   * Listeners of the whole party, per worker of this room, and client messages refused by
   * all workers so far; `rooms`: every room's count when the party spans machines (edges).
   */
  | { type: "totals"; total: number; perWorker: number[]; rejected: number; rooms?: RoomCount[] }
  /** A controller set the group's volume or mute: every worker applies it to its players. */
  | { type: "group-volume"; volume?: number; muted?: boolean }
  /** The players of every worker together, as controllers show them. */
  | { type: "players"; count: number; volume: number; muted: boolean }
  /** The client ids the operator has approved now (the whole set). */
  | { type: "approvals"; clientIds: string[] }
  /** The long-term PSK of every paired client now (the whole set). */
  | { type: "pairings"; clients: PairedClient[] }
  /**
   * The operator pairs a client; the worker holding its connection runs the attempt.
   * `secret`: the pairing PSK (base64url) for `pairing_psk`, the 8 digits for
   * `static_pairing_code`; none for `dynamic_pairing_code`, whose code comes as `pair-code`.
   */
  | { type: "pair"; clientId: string; method: PairMethod; secret?: string }
  /** The code the client shows: 6 digits, or a scanned QR code's 24 bytes in base64url. */
  | { type: "pair-code"; clientId: string; code: string }
  /** The operator cancels a client's pairing attempt. */
  | { type: "pair-cancel"; clientId: string }
  /** The new pairing record is kept: the worker acknowledges it to the client. */
  | { type: "pair-saved"; clientId: string }
  /** The coordinator's clock moved (an edge's estimate of the origin's): calibrate again. */
  | { type: "clock-moved" }
  /** Answer to a clock probe: the coordinator's clock when it read the probe. */
  | { type: "clock-answer"; sentUs: number; coordinatorUs: number }
  | { type: "shutdown" };

/** One room of a party that spans machines: the origin or an edge, with its listeners. */
export interface RoomCount {
  name: string;
  role: "origin" | "edge";
  total: number;
  perWorker: number[];
  /** An edge's estimate of the origin's clock: its error and fastest round trip, µs. */
  clock?: { errorUs: number; roundTripUs: number };
}

export type UpMessage =
  | { type: "listening"; worker: number; port: number }
  | { type: "failed"; worker: number; reason: string }
  /** `trust`: legacy, paired, dialled, unpaired (approved or welcome as a guest). */
  | {
    type: "client-joined";
    worker: number;
    clientId: string;
    name: string;
    trust: string;
    /** The pairing methods it offers (encrypted clients; empty for legacy ones). */
    pairMethods: PairMethod[];
  }
  /**
   * An unpaired client is connected and waits: for the operator's approval (`--guests ask`),
   * or for pairing (it plays only for servers it is paired with).
   */
  | {
    type: "client-waiting";
    worker: number;
    clientId: string;
    name: string;
    needs: "approval" | "pairing";
    /** The pairing methods it offers (encrypted clients). */
    pairMethods: PairMethod[];
  }
  /** How a pairing attempt goes, for the console (see PairingStage). */
  | {
    type: "pairing";
    worker: number;
    clientId: string;
    name: string;
    stage: PairingStage;
    /** For the operator: what the device said, or why the attempt ended. */
    detail?: string;
    /** Stage "paired": the new long-term PSK (base64url), for the coordinator to keep. */
    psk?: string;
  }
  | { type: "client-left"; worker: number; clientId: string; name: string }
  /** The worker's listener count and how many client messages it has refused so far. */
  | { type: "listeners"; worker: number; count: number; rejected: number }
  | { type: "error"; worker: number; message: string }
  /** A controller set the group's volume or mute: for the players of every worker. */
  | { type: "group-volume"; worker: number; volume?: number; muted?: boolean }
  /** This worker's players: how many, the sum of their volumes, how many are muted. */
  | { type: "players"; worker: number; count: number; volumeSum: number; muted: number }
  /** A client left (or the worker stops): what it said and was sent, for `--summary`. */
  | { type: "client-summary"; worker: number; summary: ClientSummary }
  /** A controller client asked the party to play, pause, skip...: the coordinator decides. */
  | { type: "command"; worker: number; clientId: string; command: PartyCommand }
  /** Asks for the coordinator's clock; `sentUs` is the worker's own clock. */
  | { type: "clock-probe"; worker: number; sentUs: number }
  /** Sent every HEARTBEAT_INTERVAL_MS: the worker's event loop runs. */
  | { type: "alive"; worker: number };

/**
 * "pending": the device holds the attempt back (a button to press); "code": it shows or
 * speaks a code now (detail: the round and the format, "2/digits"), for the operator to type; "note": a word for the
 * operator (detail); "paired": the PSK to keep; "ended": the attempt is over without a
 * pairing (detail: why); "lost": the client answered with the Sentinel where its pairing was
 * expected (it lost its record of this server).
 */
export type PairingStage = "pending" | "code" | "note" | "paired" | "ended" | "lost";

/**
 * How often a worker reports that it runs. The coordinator declares a worker hung only when
 * its reports stop, never because it is slow to read: a worker busy with a join storm still
 * beats.
 */
export const HEARTBEAT_INTERVAL_MS = 500;

const KIND_CHUNK = 1;
const KIND_JSON = 2;
const KIND_ARTWORK = 3;
const LENGTH_BYTES = 4;
/**
 * A chunk frame's body: kind u8, segment u32, playAtUs f64, sample rate u32, bit depth u8,
 * channels u8 (all big-endian), then the PCM. Every chunk names its format, so a worker
 * joining late, or a format change mid-segment, needs no separate announcement.
 */
const CHUNK_HEADER_BYTES = 1 + 4 + 8 + 4 + 1 + 1;
/** Far above a 60 ms PCM chunk (69,120 bytes at 192 kHz/24-bit stereo): larger is broken. */
export const MAX_FRAME_BYTES = 1 << 20;

/** The largest image the coordinator sends down: its frame (with key and type) stays under 1 MiB. */
export const MAX_ARTWORK_BYTES = MAX_FRAME_BYTES - 1024;

/** Thrown for a short, oversized or malformed frame: the reader cannot resynchronise. */
export class MalformedFrameError extends Error {}

/** One downward frame: u32 big-endian body length, then the body. */
export function encodeDown(message: DownMessage): Uint8Array {
  if (message.type === "chunk") {
    const body = CHUNK_HEADER_BYTES + message.pcm.byteLength;
    const out = new Uint8Array(LENGTH_BYTES + body);
    const view = new DataView(out.buffer);
    view.setUint32(0, body);
    out[4] = KIND_CHUNK;
    view.setUint32(5, message.segment);
    view.setFloat64(9, message.playAtUs);
    view.setUint32(17, message.format.sampleRate);
    out[21] = message.format.bitDepth;
    out[22] = message.format.channels;
    out.set(message.pcm, LENGTH_BYTES + CHUNK_HEADER_BYTES);
    return out;
  }
  if (message.type === "artwork") return encodeArtwork(message);
  const json = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(LENGTH_BYTES + 1 + json.byteLength);
  new DataView(out.buffer).setUint32(0, 1 + json.byteLength);
  out[4] = KIND_JSON;
  out.set(json, LENGTH_BYTES + 1);
  return out;
}

/** [kind][u8 key length][key][u8 mime length][mime][image bytes]. */
function encodeArtwork(message: { key: string; mime: string; bytes: Uint8Array }): Uint8Array {
  const key = new TextEncoder().encode(message.key);
  const mime = new TextEncoder().encode(message.mime);
  if (
    key.byteLength > 255 || mime.byteLength > 255 || message.bytes.byteLength > MAX_ARTWORK_BYTES
  ) {
    throw new RangeError(
      `Cannot send artwork ${message.key}: ${message.bytes.byteLength} bytes, at most ${MAX_ARTWORK_BYTES}`,
    );
  }
  const body = 1 + 1 + key.byteLength + 1 + mime.byteLength + message.bytes.byteLength;
  const out = new Uint8Array(LENGTH_BYTES + body);
  new DataView(out.buffer).setUint32(0, body);
  let at = LENGTH_BYTES;
  out[at++] = KIND_ARTWORK;
  out[at++] = key.byteLength;
  out.set(key, at);
  at += key.byteLength;
  out[at++] = mime.byteLength;
  out.set(mime, at);
  out.set(message.bytes, at + mime.byteLength);
  return out;
}

function decodeArtwork(body: Uint8Array): DownMessage | undefined {
  const keyEnd = 2 + (body[1] ?? 0);
  const mimeEnd = keyEnd + 1 + (body[keyEnd] ?? 0);
  if (body.byteLength < mimeEnd) return undefined;
  const text = new TextDecoder();
  return {
    type: "artwork",
    key: text.decode(body.subarray(2, keyEnd)),
    mime: text.decode(body.subarray(keyEnd + 1, mimeEnd)),
    bytes: body.slice(mimeEnd),
  };
}

function decodeBody(body: Uint8Array): DownMessage {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body[0] === KIND_ARTWORK) {
    const artwork = decodeArtwork(body);
    if (artwork) return artwork;
  }
  if (body[0] === KIND_CHUNK && body.byteLength >= CHUNK_HEADER_BYTES) {
    const format = {
      sampleRate: view.getUint32(13),
      bitDepth: body[17],
      channels: body[18],
    } as PcmFormat;
    const pcm = body.slice(CHUNK_HEADER_BYTES);
    const problem = pcmFormatProblem(format) ??
      (pcm.byteLength % bytesPerFrame(format) ? `${pcm.byteLength} bytes of PCM` : undefined);
    if (problem) throw new MalformedFrameError(`malformed chunk frame: ${problem}`);
    return { type: "chunk", segment: view.getUint32(1), playAtUs: view.getFloat64(5), format, pcm };
  }
  if (body[0] === KIND_JSON) {
    try {
      const message = JSON.parse(new TextDecoder().decode(body.subarray(1)));
      const binary = message?.type === "chunk" || message?.type === "artwork";
      if (typeof message?.type === "string" && !binary) return message;
    } catch {
      // falls through to the error below, which names the frame
    }
  }
  throw new MalformedFrameError(`malformed frame: kind ${body[0]}, ${body.byteLength} bytes`);
}

/** One whole downward frame (as encodeDown made it). Throws MalformedFrameError. */
export function decodeDown(frame: Uint8Array): DownMessage {
  if (frame.byteLength < LENGTH_BYTES + 1) {
    throw new MalformedFrameError(`malformed frame: ${frame.byteLength} bytes`);
  }
  const length = new DataView(frame.buffer, frame.byteOffset, LENGTH_BYTES).getUint32(0);
  if (length !== frame.byteLength - LENGTH_BYTES || length > MAX_FRAME_BYTES) {
    throw new MalformedFrameError(`malformed frame: length ${length} in ${frame.byteLength} bytes`);
  }
  return decodeBody(frame.subarray(LENGTH_BYTES));
}

/** Reads downward frames from a byte stream until it ends. Throws MalformedFrameError. */
export async function* readDown(input: ReadableStream<Uint8Array>): AsyncGenerator<DownMessage> {
  let buffer: Uint8Array = new Uint8Array(0);
  for await (const piece of input) {
    buffer = buffer.byteLength ? concat(buffer, piece) : piece;
    let offset = 0;
    while (buffer.byteLength - offset >= LENGTH_BYTES) {
      const view = new DataView(buffer.buffer, buffer.byteOffset + offset, LENGTH_BYTES);
      const length = view.getUint32(0);
      if (length === 0 || length > MAX_FRAME_BYTES) {
        throw new MalformedFrameError(`malformed frame: length ${length}`);
      }
      if (buffer.byteLength - offset - LENGTH_BYTES < length) break;
      const start = offset + LENGTH_BYTES;
      yield decodeBody(buffer.subarray(start, start + length));
      offset = start + length;
    }
    buffer = buffer.slice(offset);
  }
  if (buffer.byteLength > 0) {
    throw new MalformedFrameError(`stream ended inside a frame (${buffer.byteLength} bytes left)`);
  }
}
/** One upward status line. */
export function encodeUp(message: UpMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message) + "\n");
}

/** Reads upward status lines; a line that is not a status message is passed to `onJunk`. */
export async function* readUp(
  input: ReadableStream<Uint8Array>,
  onJunk: (line: string) => void,
): AsyncGenerator<UpMessage> {
  const lines = input.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const text of lines) {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (!line.trim()) continue;
      try {
        const message = JSON.parse(line);
        if (typeof message?.type === "string" && typeof message.worker === "number") {
          yield message as UpMessage;
          continue;
        }
      } catch {
        // not JSON: reported below
      }
      onJunk(line);
    }
  }
}
