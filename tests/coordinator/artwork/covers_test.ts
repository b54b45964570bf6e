/**
 * The coordinator's side of cover art: a track's now-playing names its cover's path after the
 * image went to the workers; a stream or a file without a cover names none; a picture too
 * big for one pipe frame is sent as a smaller JPEG.
 */
import assert from "node:assert/strict";
import { type CoverImage, Covers } from "../../../coordinator/artwork/covers.ts";
import { MAX_ARTWORK_BYTES } from "../../../protocol/ipc.ts";
import { Logger } from "../../../protocol/log.ts";
import type { NowPlaying } from "../../../protocol/now_playing.ts";
import { artworkKeyOf } from "../../../protocol/artwork_path.ts";
import { ffmpeg, hasFfmpeg, sha256Hex, tempDir } from "../decode/helpers.ts";
import { makePicture, probePicture } from "../../support/images.ts";
import { ignoreUnless } from "../../support/skip.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: it makes the pictures");
const NOW_PLAYING: NowPlaying = {
  atUs: 5_000_000,
  track: { title: "Song" },
  positionMs: 0,
  playback: "playing",
  repeat: "off",
  shuffle: false,
  supported: [],
  artworkPath: "/artwork/0000000000000000.jpg", // a stale one is never passed on
};

function covers() {
  const sent: CoverImage[] = [];
  const log = new Logger("CRITICAL");
  return { sent, covers: new Covers({ send: (image) => sent.push(image), log }) };
}

Deno.test({
  name: "a track's now-playing names its cover, sent to the workers first, keyed by its hash",
  ignore,
  fn: async () => {
    const dir = await tempDir();
    try {
      await ffmpeg(["-f", "lavfi", "-i", "sine=d=0.2", `${dir.path}/a.flac`]);
      await makePicture(`${dir.path}/cover.jpg`, 50, 50);
      const { sent, covers: shelf } = covers();
      const nowPlaying = await shelf.withArtwork(`${dir.path}/a.flac`, NOW_PLAYING);
      const bytes = await Deno.readFile(`${dir.path}/cover.jpg`);
      const key = `${sha256Hex(bytes).slice(0, 16)}.jpg`;
      assert.deepEqual(nowPlaying, { ...NOW_PLAYING, artworkPath: `/artwork/${key}` });
      assert.equal(artworkKeyOf(nowPlaying.artworkPath), key);
      assert.deepEqual(sent, [{ key, mime: "image/jpeg", bytes }]);
      // The next time round (a loop), the image is handed again: the pool knows who lacks it.
      await shelf.withArtwork(`${dir.path}/a.flac`, NOW_PLAYING);
      assert.equal(sent.length, 2);
    } finally {
      await dir.remove();
    }
  },
});

Deno.test("a stream, or a file without a cover, has no artworkPath", async () => {
  const { sent, covers: shelf } = covers();
  const { artworkPath: _, ...without } = NOW_PLAYING;
  assert.deepEqual(await shelf.withArtwork(undefined, NOW_PLAYING), without);
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/a.mp3`, "not audio");
    assert.deepEqual(await shelf.withArtwork(`${dir.path}/a.mp3`, NOW_PLAYING), without);
    assert.deepEqual(sent, []);
  } finally {
    await dir.remove();
  }
});

Deno.test({
  name: "a cover too big for one pipe frame goes to the workers as a smaller JPEG",
  ignore,
  fn: async () => {
    const dir = await tempDir();
    try {
      // Noise does not compress: a 1400 px PNG of it is several MiB.
      await ffmpeg([
        ...["-f", "lavfi", "-i", "nullsrc=s=1400x1400,geq=random(1)*255:random(2)*255:128"],
        ...["-frames:v", "1", `${dir.path}/cover.png`],
      ]);
      assert.ok((await Deno.stat(`${dir.path}/cover.png`)).size > MAX_ARTWORK_BYTES);
      await ffmpeg(["-f", "lavfi", "-i", "sine=d=0.2", `${dir.path}/a.flac`]);
      const { sent, covers: shelf } = covers();
      const nowPlaying = await shelf.withArtwork(`${dir.path}/a.flac`, NOW_PLAYING);
      assert.equal(sent.length, 1);
      assert.ok(sent[0].bytes.byteLength <= MAX_ARTWORK_BYTES, `${sent[0].bytes.byteLength}`);
      assert.equal(sent[0].mime, "image/jpeg");
      assert.match(nowPlaying.artworkPath ?? "", /^\/artwork\/[0-9a-f]{16}\.jpg$/);
      const probed = await probePicture(sent[0].bytes);
      assert.equal(probed.codec, "mjpeg");
      assert.equal(probed.width, probed.height, "the aspect is kept");
      assert.ok(probed.width <= 1400);
    } finally {
      await dir.remove();
    }
  },
});
