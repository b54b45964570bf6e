/** Shapes that internet radio sends: chained Ogg streams, MP3 joined in the middle of a frame. */
import assert from "node:assert/strict";
import { decodeBuiltin, type TrackTags } from "../../../coordinator/decode/builtin.ts";
import { collectPcm, ffmpeg, hasFfmpeg, inPieces, tempDir } from "./helpers.ts";

async function makeTrack(path: string, title: string, codecArgs: string[]): Promise<Uint8Array> {
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "sine=f=440:r=48000:d=1",
    "-ac",
    "2",
    "-metadata",
    `title=${title}`,
    ...codecArgs,
    path,
  ]);
  return await Deno.readFile(path);
}

const chains: [name: string, first: string[], second: string[]][] = [
  ["Vorbis then Vorbis", ["-c:a", "libvorbis"], ["-c:a", "libvorbis"]],
  ["Opus then Opus", ["-c:a", "libopus"], ["-c:a", "libopus"]],
  ["Vorbis then Opus", ["-c:a", "libvorbis"], ["-c:a", "libopus"]],
];

for (const [name, first, second] of chains) {
  Deno.test({
    name: `chained Ogg streams (${name}) play one after the other with each one's tags`,
    ignore: !hasFfmpeg,
    async fn() {
      const dir = await tempDir();
      try {
        const one = await makeTrack(`${dir.path}/one.ogg`, "One", first);
        const two = await makeTrack(`${dir.path}/two.ogg`, "Two", second);
        const chained = new Uint8Array(one.length + two.length);
        chained.set(one);
        chained.set(two, one.length);
        const tags: TrackTags[] = [];
        const pcm = await collectPcm(
          decodeBuiltin(inPieces(chained, 2000), { onTags: (t) => tags.push(t) }),
        );
        assert.deepEqual(tags, [{ title: "One" }, { title: "Two" }]);
        assert.equal(pcm.length, 2 * 2 * 48000, "two seconds of stereo");
      } finally {
        await dir.remove();
      }
    },
  });
}

Deno.test({
  name: "an MP3 stream joined in the middle of a frame is picked up at the next frame",
  ignore: !hasFfmpeg,
  async fn() {
    const dir = await tempDir();
    try {
      const bytes = await makeTrack(`${dir.path}/radio.mp3`, "Radio", [
        "-c:a",
        "libmp3lame",
        "-write_xing",
        "0",
        "-id3v2_version",
        "0",
      ]);
      const pcm = await collectPcm(decodeBuiltin(inPieces(bytes.subarray(1001), 700)));
      const frames = pcm.length / 2;
      assert.ok(frames > 0.8 * 48000 && frames < 48000, `${frames} frames`);
    } finally {
      await dir.remove();
    }
  },
});

/** A beginning-of-stream page of another logical stream, as an Ogg skeleton would start. */
function skeletonPage(): Uint8Array {
  const packet = new TextEncoder().encode("fishead\0" + "\0".repeat(56));
  const header = new Uint8Array(28);
  header.set(new TextEncoder().encode("OggS"));
  header[5] = 0x02; // beginning of stream
  header[14] = 0x99; // a serial number no audio stream uses
  header[26] = 1;
  header[27] = packet.length;
  const page = new Uint8Array(header.length + packet.length);
  page.set(header);
  page.set(packet, header.length);
  return page;
}

Deno.test({
  name: "an Ogg file whose first stream is not audio (a skeleton) still plays its Vorbis stream",
  ignore: !hasFfmpeg,
  async fn() {
    const dir = await tempDir();
    try {
      const vorbis = await makeTrack(`${dir.path}/one.ogg`, "One", ["-c:a", "libvorbis"]);
      const skeleton = skeletonPage();
      const bytes = new Uint8Array(skeleton.length + vorbis.length);
      bytes.set(skeleton);
      bytes.set(vorbis, skeleton.length);
      const pcm = await collectPcm(decodeBuiltin(inPieces(bytes, 2000)));
      assert.equal(pcm.length, 2 * 48000);
    } finally {
      await dir.remove();
    }
  },
});
