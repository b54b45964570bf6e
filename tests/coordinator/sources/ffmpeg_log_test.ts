/**
 * Tags from ffmpeg's log reach the party once, whole: a client never sees a title with its
 * artist and album still null. Later stream titles (ICY) are reported as they change.
 */
import assert from "node:assert/strict";
import { followFfmpegLog } from "../../../coordinator/sources/ffmpeg.ts";
import type { TrackTags } from "../../../protocol/tags.ts";

function logOf(text: string, pieceBytes = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += pieceBytes) pieces.push(bytes.slice(i, i + pieceBytes));
  return ReadableStream.from(pieces);
}

// What ffmpeg 5.1 prints for a tagged MP3 (format-level tags) and Ogg Vorbis (stream-level).
const MP3_LOG = `Input #0, mp3, from 't.mp3':
  Metadata:
    title           : T1
    artist          : A1
    album           : Al1
    encoder         : Lavf59.27.100
  Duration: 00:00:01.04, start: 0.025057, bitrate: 66 kb/s
  Stream #0:0: Audio: mp3, 44100 Hz, mono, fltp, 64 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (mp3 (mp3float) -> pcm_s16le (native))
Output #0, s16le, to 'pipe:1':
  Metadata:
    title           : T1
    artist          : A1
    album           : Al1
`;
const OGG_LOG = `Input #0, ogg, from 't.ogg':
  Duration: 00:00:01.00, start: 0.000000, bitrate: 42 kb/s
  Stream #0:0: Audio: vorbis, 44100 Hz, mono, fltp, 80 kb/s
    Metadata:
      encoder         : Lavc59.37.100 libvorbis
      title           : T1
      artist          : A1
      album           : Al1
Stream mapping:
  Stream #0:0 -> #0:0 (vorbis (native) -> pcm_s16le (native))
Output #0, s16le, to 'pipe:1':
    Metadata:
      album           : Other
`;
const WHOLE = { title: "T1", artist: "A1", album: "Al1" };

for (const [name, log] of [["format-level (MP3)", MP3_LOG], ["stream-level (Ogg)", OGG_LOG]]) {
  Deno.test(`ffmpeg's ${name} tags are reported once, whole`, async () => {
    const reported: TrackTags[] = [];
    await followFfmpegLog(logOf(log), (tags) => reported.push(tags));
    assert.deepEqual(reported, [WHOLE]);
  });
}

Deno.test("a radio's stream titles are reported as they change, after the first whole set", async () => {
  const log = `Input #0, mp3, from 'http://radio':
  Metadata:
    icy-name        : Party FM
    StreamTitle     : Band - First Song
Stream mapping:
Output #0, s16le, to 'pipe:1':
    StreamTitle     : Band - Second Song
`;
  const reported: TrackTags[] = [];
  await followFfmpegLog(logOf(log), (tags) => reported.push(tags));
  assert.deepEqual(reported, [
    { artist: "Band", title: "First Song" },
    { artist: "Band", title: "Second Song" },
  ]);
});

Deno.test("an ICY title change logged at verbose is reported when it comes", async () => {
  const log = `[http @ 0x5555] Metadata update for StreamTitle: Band - First Song
Input #0, mp3, from 'http://radio':
  Metadata:
    StreamTitle     : Band - First Song
Stream mapping:
Output #0, s16le, to 'pipe:1':
size=N/A time=00:00:02.00 bitrate=N/A speed=1x    [http @ 0x5555] Metadata update for StreamTitle: Other - Second Song
`;
  const reported: TrackTags[] = [];
  await followFfmpegLog(logOf(log), (tags) => reported.push(tags));
  assert.deepEqual(reported, [
    { artist: "Band", title: "First Song" },
    { artist: "Other", title: "Second Song" },
  ]);
});

Deno.test("tags of a log that ends before its output are still reported once", async () => {
  const reported: TrackTags[] = [];
  await followFfmpegLog(
    logOf("Input #0:\n  Metadata:\n    title : Only\n"),
    (t) => reported.push(t),
  );
  assert.deepEqual(reported, [{ title: "Only" }]);
});
