/**
 * The artwork@v1 role's client messages, in both dialects: the legacy one declares channels
 * in `client/hello` (`artwork@v1_support`, sizes as `media_width`/`media_height` maxima) and
 * changes one with `stream/request-format`; the encrypted one declares them all in every
 * `client/state` (`width`/`height`, exact). Both end up as ArtworkChannel lists.
 */
import { fail, isObject } from "./messages.ts";
import type { ImageFormat } from "./image.ts";

export type ArtworkSource = "album" | "artist" | "none";

/** What a client wants on one channel; format and size are absent only for source "none". */
export interface ArtworkChannel {
  source: ArtworkSource;
  format?: ImageFormat;
  width?: number;
  height?: number;
}

/** A legacy `stream/request-format` artwork object: one channel, any of its fields. */
export interface ArtworkChannelChange extends Partial<ArtworkChannel> {
  channel: number;
}

/** The spec's limit: binary types 8 to 11. */
export const MAX_ARTWORK_CHANNELS = 4;
/**
 * Beyond what artwork displays have; a 4096 px PNG would hold a worker's event loop for
 * seconds (pure-JS encoding), every client's time answers behind it.
 */
export const MAX_ARTWORK_SIDE = 2048;
const SOURCES: readonly string[] = ["album", "artist", "none"];
const FORMATS: readonly string[] = ["jpeg", "png", "bmp"];

type SizeKeys = readonly [width: string, height: string];
const LEGACY_SIZE: SizeKeys = ["media_width", "media_height"];
const ENCRYPTED_SIZE: SizeKeys = ["width", "height"];

/** `artwork@v1_support` of a legacy hello; undefined if absent. */
export function parseLegacyArtworkSupport(value: unknown): ArtworkChannel[] | undefined {
  if (value === undefined) return undefined;
  return parseChannels(value, LEGACY_SIZE, "artwork@v1_support");
}

/** The `artwork` object of an encrypted client/state; undefined if absent. */
export function parseEncryptedArtworkState(value: unknown): ArtworkChannel[] | undefined {
  if (value === undefined) return undefined;
  return parseChannels(value, ENCRYPTED_SIZE, "client/state artwork");
}

/** The `artwork` object of a legacy stream/request-format; undefined if absent. */
export function parseArtworkChange(value: unknown): ArtworkChannelChange | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail("stream/request-format artwork must be an object", value);
  const channel = value.channel;
  if (!Number.isInteger(channel) || (channel as number) < 0 || (channel as number) > 3) {
    fail("stream/request-format artwork channel must be 0 to 3", channel);
  }
  const change: ArtworkChannelChange = { channel: channel as number };
  if (value.source !== undefined) change.source = source(value.source, "stream/request-format");
  if (value.format !== undefined) change.format = format(value.format, "stream/request-format");
  if (value.media_width !== undefined) change.width = side(value.media_width, "media_width");
  if (value.media_height !== undefined) change.height = side(value.media_height, "media_height");
  return change;
}

function parseChannels(value: unknown, sizes: SizeKeys, where: string): ArtworkChannel[] {
  const list = isObject(value) ? value.channels : undefined;
  if (!Array.isArray(list) || list.length > MAX_ARTWORK_CHANNELS) {
    fail(`${where} needs channels, a list of at most ${MAX_ARTWORK_CHANNELS}`, list);
  }
  return list.map((entry, index) => {
    if (!isObject(entry)) fail(`${where} channel ${index} must be an object`, entry);
    const kind = source(entry.source, `${where} channel ${index}`);
    if (kind === "none") return { source: "none" };
    return {
      source: kind,
      format: format(entry.format, `${where} channel ${index}`),
      width: side(entry[sizes[0]], `${where} channel ${index} ${sizes[0]}`),
      height: side(entry[sizes[1]], `${where} channel ${index} ${sizes[1]}`),
    };
  });
}

function source(value: unknown, where: string): ArtworkSource {
  if (!SOURCES.includes(value as string)) {
    fail(`${where} source must be album, artist or none`, value);
  }
  return value as ArtworkSource;
}

function format(value: unknown, where: string): ImageFormat {
  if (!FORMATS.includes(value as string)) fail(`${where} format must be jpeg, png or bmp`, value);
  return value as ImageFormat;
}

function side(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_ARTWORK_SIDE) {
    fail(`${what} must be a whole number from 1 to ${MAX_ARTWORK_SIDE}`, value);
  }
  return value as number;
}
