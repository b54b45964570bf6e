import assert from "node:assert/strict";
import { decodeBuiltin, UnsupportedFormatError } from "../../../coordinator/decode/builtin.ts";
import {
  collectPcm,
  ffmpeg,
  firstDifference,
  hasFfmpeg,
  inPieces,
  seededRandom,
  tempDir,
} from "./helpers.ts";
import { buildWav, int16Bytes } from "./wav_builder.ts";

const text = (value: string) => new TextEncoder().encode(value);

async function assertUnsupported(bytes: Uint8Array, message: RegExp): Promise<void> {
  await assert.rejects(() => collectPcm(decodeBuiltin(inPieces(bytes, 300))), (error: unknown) => {
    assert.ok(error instanceof UnsupportedFormatError, `${error}`);
    assert.match(error.message, message);
    assert.ok(!error.message.includes("\n"), "the message is one line");
    return true;
  });
}

Deno.test("garbage input is refused with a message naming what was seen", async () => {
  const random = seededRandom(3);
  const noise = Uint8Array.from({ length: 100_000 }, () => Math.floor(random() * 256));
  noise.set([0x12, 0x34, 0x56, 0x78]);
  await assertUnsupported(
    noise,
    /^Cannot decode the source: its first bytes \(12 34 56 78 .*\) are not WAV, FLAC, MP3 or Ogg$/,
  );
  await assertUnsupported(new Uint8Array(0), /^Cannot decode the source: it is empty$/);
  await assertUnsupported(text("<!DOCTYPE html><html>Not found</html>"), /web page/);
  await assertUnsupported(text("#EXTM3U\nhttp://radio.example/stream\n"), /playlist/);
  await assertUnsupported(
    new Uint8Array([0, 0, 0, 32, ...text("ftypM4A "), 0, 0, 0, 0]),
    /MP4\/M4A .*needs ffmpeg/,
  );
  await assertUnsupported(text("RIFF\x04\0\0\0AVI LIST"), /RIFF "AVI " file, not WAVE audio/);
});

Deno.test("WAV and Ogg with codecs we don't decode are refused by name", async () => {
  const adpcm = buildWav({
    formatTag: 2,
    channels: 2,
    sampleRate: 44100,
    bitsPerSample: 4,
    data: new Uint8Array(64),
  });
  await assertUnsupported(
    adpcm,
    /^Cannot decode the WAV source: MS ADPCM at 4 bits is not supported/,
  );
  // A beginning-of-stream Ogg page whose one packet is a Speex header.
  const packet = text("Speex   1.2rc1\0\0\0\0\0\0");
  const page = new Uint8Array([
    ...text("OggS"),
    0,
    2,
    ...new Array(20).fill(0),
    1,
    packet.length,
    ...packet,
  ]);
  await assertUnsupported(
    page,
    /^Cannot decode the Ogg source: it carries Speex, not Vorbis or Opus$/,
  );
});

Deno.test("a truncated WAV ends cleanly after the frames it has", async () => {
  const samples = Array.from({ length: 2000 }, (_, i) => i - 1000);
  const wav = buildWav({
    formatTag: 1,
    channels: 2,
    sampleRate: 48000,
    bitsPerSample: 16,
    data: int16Bytes(samples),
  });
  const pcm = await collectPcm(decodeBuiltin(inPieces(wav.subarray(0, wav.length - 1001), 333)));
  assert.deepEqual(Array.from(pcm), samples.slice(0, 2000 - 501 - 1)); // the partial frame is dropped
});

const lossyAndFlac: [file: string, args: string[]][] = [
  ["cut.flac", ["-c:a", "flac"]],
  ["cut.mp3", ["-c:a", "libmp3lame"]],
  // Short pages: by default a 2 s Vorbis sine is a single audio page, which a cut leaves empty.
  ["cut.ogg", ["-c:a", "libvorbis", "-page_duration", "100000"]],
  ["cut.opus", ["-c:a", "libopus"]],
];

for (const [file, args] of lossyAndFlac) {
  Deno.test({
    name: `a ${
      file.split(".")[1].toUpperCase()
    } file cut in the middle decodes its first part and ends cleanly`,
    ignore: !hasFfmpeg,
    async fn() {
      const dir = await tempDir();
      try {
        const path = `${dir.path}/${file}`;
        await ffmpeg(["-f", "lavfi", "-i", "sine=f=440:r=48000:d=2", "-ac", "2", ...args, path]);
        const bytes = await Deno.readFile(path);
        const whole = await collectPcm(decodeBuiltin(inPieces(bytes)));
        const cut = await collectPcm(
          decodeBuiltin(inPieces(bytes.subarray(0, Math.floor(bytes.length * 0.6)))),
        );
        const ratio = cut.length / whole.length;
        // Headers take a share of the bytes, so 60 % of the bytes is less audio than that.
        assert.ok(ratio > 0.2 && ratio < 0.8, `decoded ${cut.length} of ${whole.length} samples`);
        if (file.endsWith(".flac")) {
          const at = firstDifference(cut, whole.subarray(0, cut.length));
          assert.equal(at, -1, `differs from the whole file's decode at ${at}`);
        }
      } finally {
        await dir.remove();
      }
    },
  });
}

/** An endless WAV stream (data size 0xFFFFFFFF, as internet radio and pipes send it). */
function endlessWav(state: { pieces: number; closed: boolean }, stallAfter = Infinity) {
  return (async function* () {
    try {
      yield buildWav({
        formatTag: 1,
        channels: 2,
        sampleRate: 48000,
        bitsPerSample: 16,
        data: new Uint8Array(0),
        dataSize: 0xffffffff,
      });
      for (;; state.pieces++) {
        if (state.pieces >= stallAfter) await new Promise(() => {}); // a server that stops sending
        yield int16Bytes(new Array(960).fill(1000));
      }
    } finally {
      state.closed = true;
    }
  })();
}

Deno.test("an endless stream decodes incrementally and is closed when the consumer stops", async () => {
  const state = { pieces: 0, closed: false };
  let blocks = 0;
  for await (const block of decodeBuiltin(endlessWav(state))) {
    assert.equal(new Int16Array(block.pcm.buffer, block.pcm.byteOffset, 1)[0], 1000);
    if (++blocks === 20) break;
  }
  assert.ok(state.pieces < 40, `read ${state.pieces} pieces for 20 blocks`);
  assert.ok(state.closed, "the source was closed");
});

Deno.test("aborting stops decoding, even while the source is stalled", async () => {
  const state = { pieces: 0, closed: false };
  const controller = new AbortController();
  let blocks = 0;
  const started = performance.now();
  for await (const _ of decodeBuiltin(endlessWav(state, 5), { signal: controller.signal })) {
    // Abort once the source has stalled: no more blocks can come before it.
    if (++blocks === 1) setTimeout(() => controller.abort(), 50);
  }
  assert.equal(state.pieces, 5, "the source stalled before the abort");
  assert.ok(performance.now() - started < 2000, "returned promptly after the abort");
});
