/**
 * Gives each track's cover to the workers and names it in the track's now-playing: the
 * playlist calls `withArtwork` once per track, before it announces the track. Each cover is
 * looked up once per file; a cover too big for one pipe frame is scaled down first.
 */
import { MAX_ARTWORK_BYTES } from "../../protocol/ipc.ts";
import { decodeImage, IMAGE_MIME, renderImage } from "../../protocol/image.ts";
import type { Logger } from "../../protocol/log.ts";
import type { NowPlaying } from "../../protocol/now_playing.ts";
import { ARTWORK_PREFIX } from "../../protocol/artwork_path.ts";
import { type Artwork, findArtwork } from "./find_artwork.ts";

export interface CoverImage {
  /** The file name workers serve it under: a hash of the bytes and the type's extension. */
  key: string;
  mime: string;
  bytes: Uint8Array;
}

export interface CoversOptions {
  /** Hands an image to every worker (and to workers started later). */
  send: (image: CoverImage) => void;
  log: Logger;
  /** Default findArtwork. */
  find?: (path: string) => Promise<Artwork | undefined>;
}

/** Covers of this many recent files are remembered (a playlist loops over them). */
const REMEMBERED = 64;
/** Sides tried, largest first, for a cover over MAX_ARTWORK_BYTES. */
const DOWNSCALE_SIDES = [2000, 1200, 800];
const EXTENSIONS: Record<string, string> = {
  [IMAGE_MIME.jpeg]: "jpg",
  [IMAGE_MIME.png]: "png",
  [IMAGE_MIME.bmp]: "bmp",
};

export class Covers {
  #options: CoversOptions;
  #byPath = new Map<string, Promise<CoverImage | undefined>>();

  constructor(options: CoversOptions) {
    this.#options = options;
  }

  /**
   * `nowPlaying` with the `artworkPath` of the cover of the file at `path` (none for a stream
   * or a file without one), the image handed to every worker first. Never throws.
   */
  async withArtwork(path: string | undefined, nowPlaying: NowPlaying): Promise<NowPlaying> {
    const { artworkPath: _, ...without } = nowPlaying;
    if (path === undefined) return without;
    const image = await this.#cover(path);
    if (!image) return without;
    this.#options.send(image);
    return { ...without, artworkPath: `${ARTWORK_PREFIX}${image.key}` };
  }

  #cover(path: string): Promise<CoverImage | undefined> {
    let found = this.#byPath.get(path);
    if (found) {
      this.#byPath.delete(path); // most recent last
    } else {
      found = this.#load(path);
    }
    this.#byPath.set(path, found);
    if (this.#byPath.size > REMEMBERED) this.#byPath.delete(this.#byPath.keys().next().value!);
    return found;
  }

  async #load(path: string): Promise<CoverImage | undefined> {
    try {
      const artwork = await (this.#options.find ?? findArtwork)(path);
      if (!artwork) return undefined;
      const fitting = artwork.bytes.byteLength > MAX_ARTWORK_BYTES
        ? await downscaled(artwork)
        : artwork;
      return { ...fitting, key: await keyOf(fitting) };
    } catch (error) {
      this.#options.log.warn(
        `Cannot use the cover of ${path}: ${error instanceof Error ? error.message : error}`,
      );
      return undefined;
    }
  }
}

/** A JPEG of the cover small enough for one frame. */
async function downscaled(artwork: Artwork): Promise<Artwork> {
  const image = await decodeImage(artwork.bytes);
  const largest = Math.max(image.width, image.height);
  for (const side of DOWNSCALE_SIDES.map((side) => Math.min(side, largest))) {
    const { bytes } = await renderImage(image, { format: "jpeg", width: side, height: side });
    if (bytes.byteLength <= MAX_ARTWORK_BYTES) return { bytes, mime: IMAGE_MIME.jpeg };
  }
  throw new RangeError(`Cannot make the cover small enough: still over ${MAX_ARTWORK_BYTES} bytes`);
}

/** 16 hex digits of its SHA-256: the same picture in many files is one image. */
async function keyOf(artwork: Artwork): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", artwork.bytes as Uint8Array<ArrayBuffer>),
  );
  const hex = [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex}.${EXTENSIONS[artwork.mime] ?? "img"}`;
}
