import assert from "node:assert/strict";
import { hasFfmpeg } from "../../../coordinator/sources/ffmpeg.ts";
import { createSource } from "../../../coordinator/sources/source.ts";
import { ignoreUnless } from "../../support/skip.ts";
import { testSignal, wavBytes } from "../../support/wav.ts";

const noFfmpeg = ignoreUnless(
  await hasFfmpeg(),
  "the ffmpeg source-path test: ffmpeg is not on PATH",
);

async function decodeAll(useFfmpeg: boolean, path: string): Promise<Int16Array> {
  const source = createSource({ kind: "file", path }, { useFfmpeg, onTags: () => {} });
  const blocks: Int16Array[] = [];
  for await (const block of source.decode(new AbortController().signal)) blocks.push(block);
  const out = new Int16Array(blocks.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const block of blocks) {
    out.set(block, offset);
    offset += block.length;
  }
  return out;
}

Deno.test({
  name: "the ffmpeg and built-in source paths play the same WAV to the same PCM",
  ignore: noFfmpeg,
  fn: async () => {
    const samples = testSignal(48_000 * 2 + 333);
    const path = Deno.makeTempFileSync({ suffix: ".wav" });
    Deno.writeFileSync(path, wavBytes(samples, 48_000, 2));
    try {
      const [viaFfmpeg, builtin] = await Promise.all([
        decodeAll(true, path),
        decodeAll(false, path),
      ]);
      assert.equal(viaFfmpeg.length, samples.length);
      assert.deepEqual(builtin, viaFfmpeg);
      assert.deepEqual(builtin, samples);
    } finally {
      await Deno.remove(path);
    }
  },
});
