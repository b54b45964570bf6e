/**
 * Scaling covers: fit inside a size keeping the aspect, or exactly a size padded with black,
 * in JPEG, PNG and BMP; checked by ffmpeg's decoders, not by the library that made them.
 */
import assert from "node:assert/strict";
import { decodeImage, fitInside, renderImage, sniffImage } from "../../protocol/image.ts";
import { hasFfmpeg, tempDir } from "../coordinator/decode/helpers.ts";
import { makePicture, pixelAt, probePicture } from "../support/images.ts";
import { ignoreUnless } from "../support/skip.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: it makes and reads the pictures");

async function picture(width: number, height: number, ext = "png"): Promise<Uint8Array> {
  const dir = await tempDir();
  try {
    await makePicture(`${dir.path}/p.${ext}`, width, height);
    return await Deno.readFile(`${dir.path}/p.${ext}`);
  } finally {
    await dir.remove();
  }
}

Deno.test("fitInside keeps the aspect and never exceeds the box", () => {
  assert.deepEqual(fitInside(640, 480, 300, 300), { width: 300, height: 225 });
  assert.deepEqual(fitInside(480, 640, 300, 300), { width: 225, height: 300 });
  assert.deepEqual(fitInside(100, 100, 300, 200), { width: 200, height: 200 });
  assert.deepEqual(fitInside(4000, 10, 100, 100), { width: 100, height: 1 });
});

Deno.test({
  name: "a cover is scaled inside the asked size, in each format asked",
  ignore,
  fn: async () => {
    const source = await decodeImage(await picture(640, 480, "jpg"));
    const cases = [
      { format: "jpeg", codec: "mjpeg", width: 300, height: 300, want: [300, 225] },
      { format: "png", codec: "png", width: 120, height: 80, want: [107, 80] },
      { format: "bmp", codec: "bmp", width: 64, height: 64, want: [64, 48] },
    ] as const;
    for (const c of cases) {
      const out = await renderImage(source, { format: c.format, width: c.width, height: c.height });
      const probed = await probePicture(out.bytes);
      assert.deepEqual(probed, { codec: c.codec, width: c.want[0], height: c.want[1] });
      assert.deepEqual([out.width, out.height], c.want);
      assert.equal(sniffImage(out.bytes), c.format);
    }
    assert.equal(source.width, 640, "the decoded source is left as it was");
  },
});

Deno.test({
  name: "padded, a cover is exactly the asked size, centred on black, not cropped",
  ignore,
  fn: async () => {
    const source = await decodeImage(await picture(200, 100));
    const out = await renderImage(source, { format: "png", width: 100, height: 100, fit: "pad" });
    assert.deepEqual(await probePicture(out.bytes), { codec: "png", width: 100, height: 100 });
    assert.deepEqual(await pixelAt(out.bytes, 50, 5), [0, 0, 0], "black bar above");
    assert.deepEqual(await pixelAt(out.bytes, 50, 95), [0, 0, 0], "black bar below");
    assert.notDeepEqual(await pixelAt(out.bytes, 50, 50), [0, 0, 0], "the picture in the middle");
  },
});

Deno.test("what is not JPEG, PNG or BMP is refused with a reason", async () => {
  await assert.rejects(
    decodeImage(new TextEncoder().encode("GIF89a...")),
    /not JPEG, PNG or BMP/,
  );
});
