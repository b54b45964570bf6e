/**
 * The covers this worker holds, as the coordinator sent them, and their renderings: each
 * image is decoded once and encoded once per (format, size, fit), then the same bytes go to
 * every artwork client that asked for that.
 */
import { decodeImage, type ImageFormat, renderImage } from "../../protocol/image.ts";

export interface Rendering {
  bytes: Uint8Array;
  width: number;
  height: number;
}

export interface RenderRequest {
  format: ImageFormat;
  width: number;
  height: number;
  fit: "inside" | "pad";
}

interface Held {
  mime: string;
  bytes: Uint8Array;
  decoded?: ReturnType<typeof decodeImage>;
  renderings: Map<string, Promise<Rendering>>;
}

/** Covers held: the one shown, the next, and a few before (a worker's memory is small). */
const HELD_IMAGES = 8;
/** Renderings per cover: clients ask for two or three sizes; a flood of odd sizes is capped. */
const RENDERINGS_PER_IMAGE = 16;

export class ArtworkImages {
  #held = new Map<string, Held>();

  /** A cover sent again is the most recent again (the coordinator keeps the same order). */
  add(key: string, mime: string, bytes: Uint8Array): void {
    const held = this.#held.get(key) ?? { mime, bytes, renderings: new Map() };
    this.#held.delete(key);
    this.#held.set(key, held);
    if (this.#held.size > HELD_IMAGES) this.#held.delete(this.#held.keys().next().value!);
  }

  /** The image as the coordinator sent it, for the HTTP route. */
  original(key: string): { mime: string; bytes: Uint8Array } | undefined {
    return this.#held.get(key);
  }

  has(key: string): boolean {
    return this.#held.has(key);
  }

  /** The cover `key` as asked, or undefined if it is not held. Rejects if it cannot be read. */
  render(key: string, request: RenderRequest): Promise<Rendering> | undefined {
    const held = this.#held.get(key);
    if (!held) return undefined;
    const id = `${request.format} ${request.width}x${request.height} ${request.fit}`;
    let rendering = held.renderings.get(id);
    if (!rendering) {
      held.decoded ??= decodeImage(held.bytes);
      rendering = held.decoded.then((image) => renderImage(image, request));
      if (held.renderings.size >= RENDERINGS_PER_IMAGE) {
        held.renderings.delete(held.renderings.keys().next().value!);
      }
      held.renderings.set(id, rendering);
    }
    return rendering;
  }
}
