/**
 * Cover images: recognised by their bytes, decoded, scaled and encoded with Jimp's pure-JS
 * codecs (no native addon, no WebAssembly to fetch: it runs in a compiled binary). Only the
 * pieces we need are loaded, and only once a cover is first scaled (loading them takes some
 * 120 ms, which a party without covers need not spend at every process start): JPEG, PNG and
 * BMP, and the resize plugin. The imports name their modules literally, so a compiled binary
 * carries them.
 */
import { Buffer } from "node:buffer";

/** What we use of Jimp's class. */
interface JimpClass {
  new (
    options: { width: number; height: number; color: number } | Bitmap,
  ): Image;
}

interface Bitmap {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Jimp's class and the decoder of each format. */
interface Loaded {
  Jimp: JimpClass;
  decoders: Record<ImageFormat, (data: Buffer, options?: Record<string, unknown>) => Bitmap>;
}

let loaded: Promise<Loaded> | undefined;

function jimp(): Promise<Loaded> {
  loaded ??= (async () => {
    const [core, jpeg, png, bmp, resize] = await Promise.all([
      import("@jimp/core"),
      import("@jimp/js-jpeg"),
      import("@jimp/js-png"),
      import("@jimp/js-bmp"),
      import("@jimp/plugin-resize"),
    ]);
    const formats = [jpeg.default, png.default, bmp.default];
    const Jimp = core.createJimp({ formats, plugins: [resize.methods] }) as unknown as JimpClass;
    const [jpegFormat, pngFormat, bmpFormat] = formats.map((format) => format());
    return {
      Jimp,
      decoders: {
        jpeg: jpegFormat.decode as Loaded["decoders"]["jpeg"],
        png: pngFormat.decode as Loaded["decoders"]["png"],
        bmp: bmpFormat.decode as Loaded["decoders"]["bmp"],
      },
    };
  })();
  return loaded;
}

/** What we use of a Jimp image (its own generated types defeat the checker). */
export interface Image {
  readonly width: number;
  readonly height: number;
  readonly bitmap: { data: Uint8Array; width: number; height: number };
  clone(): Image;
  resize(options: { w: number; h: number }): unknown;
  getBuffer(mime: string, options?: { quality?: number }): Promise<Uint8Array>;
}

export type ImageFormat = "jpeg" | "png" | "bmp";
export const IMAGE_MIME: Readonly<Record<ImageFormat, string>> = {
  jpeg: "image/jpeg",
  png: "image/png",
  bmp: "image/bmp",
};
/** Good enough for a cover on any screen, and a fifth of quality 100's size. */
const JPEG_QUALITY = 85;
/** The largest picture we decode (a 6000 x 6000 scan is 144 MB of pixels). */
const MAX_PIXELS = 25_000_000;

/** The format of an image from its first bytes, or undefined if it is none we can decode. */
export function sniffImage(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return "png";
  }
  if (bytes[0] === 0x42 && bytes[1] === 0x4d) return "bmp";
  return undefined;
}

/** A decoded picture, to scale as often as needed. Throws TypeError for one we cannot read. */
export async function decodeImage(bytes: Uint8Array): Promise<Image> {
  const format = sniffImage(bytes);
  if (!format) throw new TypeError("Cannot decode the image: it is not JPEG, PNG or BMP");
  // Decoded by the format's own decoder: Jimp's fromBuffer would first load file-type, whose
  // `debug` dependency reads the whole environment (a permission neither process has).
  const { Jimp, decoders } = await jimp();
  const options = format === "jpeg"
    ? { maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 512 }
    : undefined;
  const image = new Jimp(decoders[format](Buffer.from(bytes), options));
  if (image.width * image.height > MAX_PIXELS) {
    throw new RangeError(`Cannot use a ${image.width}x${image.height} image: too many pixels`);
  }
  await nextTask();
  return image;
}

/**
 * Decoding, scaling and encoding each hold the event loop (some 50-150 ms for a 1000 px
 * cover, pure JS): between them, whatever waits (time answers, audio sends) goes first.
 */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The size of `width` x `height` scaled to fit inside `maxWidth` x `maxHeight`, aspect kept. */
export function fitInside(
  width: number,
  height: number,
  maxWidth: number,
  maxHeight: number,
): { width: number; height: number } {
  const scale = Math.min(maxWidth / width, maxHeight / height);
  return {
    width: Math.max(1, Math.min(maxWidth, Math.round(width * scale))),
    height: Math.max(1, Math.min(maxHeight, Math.round(height * scale))),
  };
}

export interface RenderOptions {
  format: ImageFormat;
  width: number;
  height: number;
  /**
   * "inside": the image is scaled to fit inside width x height, and is that size (the legacy
   * dialect's media_width/height are maxima); "pad": it is exactly width x height, the scaled
   * image centred on black (the encrypted dialect's artwork@v1). Never cropped. Default "inside".
   */
  fit?: "inside" | "pad";
}

/** `source` scaled and encoded as asked; `source` itself is left as it was. */
export async function renderImage(
  source: Image,
  options: RenderOptions,
): Promise<{ bytes: Uint8Array; width: number; height: number }> {
  const size = fitInside(source.width, source.height, options.width, options.height);
  let image = source.clone();
  if (size.width !== image.width || size.height !== image.height) {
    image.resize({ w: size.width, h: size.height });
    await nextTask(); // the encode below is the other long step: sockets get a turn between
  }
  if (options.fit === "pad" && (size.width !== options.width || size.height !== options.height)) {
    image = padded((await jimp()).Jimp, image, options.width, options.height);
  }
  const bytes = options.format === "jpeg"
    ? await image.getBuffer("image/jpeg", { quality: JPEG_QUALITY })
    : await image.getBuffer(IMAGE_MIME[options.format]);
  return { bytes: new Uint8Array(bytes), width: image.width, height: image.height };
}

/** `image` centred on an opaque black canvas of `width` x `height`. */
function padded(Jimp: JimpClass, image: Image, width: number, height: number): Image {
  const canvas = new Jimp({ width, height, color: 0x000000ff });
  const left = Math.floor((width - image.width) / 2);
  const top = Math.floor((height - image.height) / 2);
  const rowBytes = image.width * 4;
  for (let y = 0; y < image.height; y++) {
    const from = y * rowBytes;
    const to = ((top + y) * width + left) * 4;
    canvas.bitmap.data.set(image.bitmap.data.subarray(from, from + rowBytes), to);
  }
  return canvas;
}
