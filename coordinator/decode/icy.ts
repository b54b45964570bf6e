/**
 * ICY (SHOUTcast/Icecast) in-band metadata. With "Icy-MetaData: 1" a server inserts, after
 * every `icy-metaint` audio bytes, one length byte N and then N * 16 bytes of text such as
 * "StreamTitle='Artist - Title';StreamUrl='';" padded with NULs.
 */
import { decodeLooseText } from "./tags.ts";
import type { TrackTags } from "./types.ts";

export interface IcyOptions {
  /** Called with the tags of each new non-empty StreamTitle. Default: titles are ignored. */
  onTags?: (tags: TrackTags) => void;
  /** Stops reading; the generator returns. Default: never stops early. */
  signal?: AbortSignal;
}

/** Yields the audio bytes of an ICY response body, without the metadata blocks. */
export async function* stripIcyMetadata(
  body: AsyncIterable<Uint8Array>,
  metaIntBytes: number,
  options: IcyOptions = {},
): AsyncGenerator<Uint8Array> {
  if (!Number.isInteger(metaIntBytes) || metaIntBytes <= 0) {
    throw new RangeError(
      `Cannot read ICY metadata: icy-metaint must be a positive integer, not ${metaIntBytes}`,
    );
  }
  let audioLeft = metaIntBytes;
  let metadata: Uint8Array | undefined; // being filled, once its length byte was read
  let metadataFilled = 0;
  let lastTitle: string | undefined;
  for await (const chunk of body) {
    if (options.signal?.aborted) return;
    let offset = 0;
    while (offset < chunk.length) {
      if (audioLeft > 0) {
        const end = Math.min(chunk.length, offset + audioLeft);
        yield chunk.subarray(offset, end);
        audioLeft -= end - offset;
        offset = end;
      } else if (metadata === undefined) {
        const length = chunk[offset++] * 16;
        if (length === 0) audioLeft = metaIntBytes;
        else metadata = new Uint8Array(length);
        metadataFilled = 0;
      } else {
        const piece = chunk.subarray(offset, offset + metadata.length - metadataFilled);
        metadata.set(piece, metadataFilled);
        metadataFilled += piece.length;
        offset += piece.length;
        if (metadataFilled < metadata.length) continue;
        const title = parseStreamTitle(decodeLooseText(metadata));
        if (title && title !== lastTitle) options.onTags?.(splitStreamTitle(title));
        lastTitle = title ?? lastTitle;
        metadata = undefined;
        audioLeft = metaIntBytes;
      }
    }
  }
}

/** The StreamTitle value of an ICY metadata block, or undefined when it has none. */
export function parseStreamTitle(metadata: string): string | undefined {
  // Titles may contain apostrophes, so the value ends at "';" (or at the end of the block).
  const match = /StreamTitle='(.*?)(?:';|'?$)/s.exec(metadata);
  const title = match?.[1].trim();
  return title ? title : undefined;
}

/** "Artist - Title" becomes { artist, title }; anything else is all title. */
export function splitStreamTitle(streamTitle: string): TrackTags {
  const separator = streamTitle.indexOf(" - ");
  if (separator <= 0 || separator + 3 >= streamTitle.length) return { title: streamTitle };
  return {
    artist: streamTitle.slice(0, separator).trim(),
    title: streamTitle.slice(separator + 3).trim(),
  };
}
