/**
 * Pictures for artwork tests, made and read back by ffmpeg: a path independent of the
 * server's image code (Jimp), so a test's check of format and size is not the server's word.
 */
import { ffmpeg } from "../coordinator/decode/helpers.ts";

/** A test card of `width` x `height` written to `path` (format from its extension). */
export async function makePicture(path: string, width: number, height: number): Promise<void> {
  await ffmpeg(["-f", "lavfi", "-i", `testsrc=size=${width}x${height}`, "-frames:v", "1", path]);
}

export interface Probed {
  /** ffprobe's codec name: mjpeg, png, bmp. */
  codec: string;
  width: number;
  height: number;
}

const PIPES: Record<string, string> = { mjpeg: "jpeg_pipe", png: "png_pipe", bmp: "bmp_pipe" };

/** What ffprobe reads in `bytes`; throws if it is no picture it knows. */
export async function probePicture(bytes: Uint8Array): Promise<Probed> {
  const child = new Deno.Command("ffprobe", {
    args: [
      ...["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json"],
      "-i",
      "pipe:0",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(bytes).catch(() => {});
  await writer.close().catch(() => {});
  const { success, stdout, stderr } = await child.output();
  const streams = success ? JSON.parse(new TextDecoder().decode(stdout)).streams : undefined;
  if (!streams?.length) {
    throw new Error(`ffprobe cannot read the picture: ${new TextDecoder().decode(stderr)}`);
  }
  const { codec_name: codec, width, height } = streams[0];
  return { codec, width, height };
}

/** The RGB of pixel (x, y) of a picture, as ffmpeg decodes it. */
export async function pixelAt(
  bytes: Uint8Array,
  x: number,
  y: number,
): Promise<[number, number, number]> {
  const { codec, width } = await probePicture(bytes);
  const dir = await Deno.makeTempDir({ prefix: "pixel_" });
  try {
    const input = `${dir}/in`;
    await Deno.writeFile(input, bytes);
    const raw = await ffmpeg([
      "-f",
      PIPES[codec],
      "-i",
      input,
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-",
    ]);
    const at = (y * width + x) * 3;
    return [raw[at], raw[at + 1], raw[at + 2]];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
