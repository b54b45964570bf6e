import assert from "node:assert/strict";
import { decodeBuiltin, type TrackTags } from "../../../coordinator/decode/builtin.ts";
import { parseId3v2 } from "../../../coordinator/decode/id3.ts";
import { parseRiffInfo, parseVorbisComment } from "../../../coordinator/decode/tags.ts";
import { collectPcm, ffmpeg, hasFfmpeg, inPieces, tempDir } from "./helpers.ts";

const TAGS = { title: "Café ☕ Song", artist: "Ärtist", album: "Albüm Name" };

const containers: [name: string, file: string, extraArgs: string[]][] = [
  ["WAV LIST/INFO", "tagged.wav", []],
  ["FLAC Vorbis comment", "tagged.flac", []],
  ["MP3 ID3v2.4", "tagged.mp3", ["-id3v2_version", "4"]],
  ["MP3 ID3v2.3", "tagged.mp3", ["-id3v2_version", "3"]],
  ["Ogg Vorbis comment", "tagged.ogg", ["-c:a", "libvorbis"]],
  ["Ogg Opus comment", "tagged.opus", ["-c:a", "libopus"]],
];

for (const [name, file, extraArgs] of containers) {
  Deno.test({
    name: `built-in decoder reports title, artist and album from ${name} tags`,
    ignore: !hasFfmpeg,
    async fn() {
      const dir = await tempDir();
      try {
        const path = `${dir.path}/${file}`;
        const metadata = Object.entries(TAGS).flatMap((
          [key, value],
        ) => ["-metadata", `${key}=${value}`]);
        await ffmpeg(["-f", "lavfi", "-i", "sine=d=0.3", ...metadata, ...extraArgs, path]);
        const reported: TrackTags[] = [];
        const bytes = await Deno.readFile(path);
        const pcm = await collectPcm(
          decodeBuiltin(inPieces(bytes, 500), { onTags: (tags) => reported.push(tags) }),
        );
        assert.ok(pcm.length > 0);
        assert.deepEqual(reported, [TAGS]);
      } finally {
        await dir.remove();
      }
    },
  });
}

/** An ID3v2 tag with the given frames (frame sizes plain for v2.3, syncsafe for v2.4). */
function id3(
  version: 3 | 4,
  frames: [id: string, encoding: number, text: Uint8Array][],
): Uint8Array {
  const parts: number[] = [];
  for (const [id, encoding, text] of frames) {
    const size = text.length + 1;
    const sizeBytes = version === 4
      ? [(size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]
      : [size >>> 24, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff];
    parts.push(...[...id].map((char) => char.charCodeAt(0)), ...sizeBytes, 0, 0, encoding, ...text);
  }
  const size = parts.length;
  const header = [
    0x49,
    0x44,
    0x33,
    version,
    0,
    0,
    (size >> 21) & 0x7f,
    (size >> 14) & 0x7f,
    (size >> 7) & 0x7f,
    size & 0x7f,
  ];
  return new Uint8Array([...header, ...parts]);
}

const latin1 = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
const utf8 = (text: string) => new TextEncoder().encode(text);
function utf16(text: string, bigEndian: boolean, bom: boolean): Uint8Array {
  const bytes: number[] = bom ? (bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]) : [];
  for (const char of text) {
    const code = char.charCodeAt(0);
    bytes.push(...(bigEndian ? [code >> 8, code & 0xff] : [code & 0xff, code >> 8]));
  }
  return new Uint8Array(bytes);
}

Deno.test("ID3v2 text frames decode in all four text encodings", () => {
  for (const version of [3, 4] as const) {
    const tag = id3(version, [
      ["TIT2", 0, latin1("Caf\xe9")],
      ["TPE1", 1, utf16("Ärtist", false, true)],
      ["TALB", version === 4 ? 2 : 1, utf16("Albüm", true, version === 3)],
    ]);
    assert.deepEqual(
      parseId3v2(tag),
      { title: "Café", artist: "Ärtist", album: "Albüm" },
      `v2.${version}`,
    );
  }
  const tag = id3(4, [["TIT2", 3, utf8("Tïtle ☕")], ["TPE1", 3, utf8("One\0Two")]]);
  assert.deepEqual(parseId3v2(tag), { title: "Tïtle ☕", artist: "One, Two" });
});

Deno.test("ID3v2.3 with unsynchronisation and unknown frames still gives its text", () => {
  const plain = id3(3, [["TXXX", 0, latin1("skip\xff\xe0me")], ["TIT2", 0, latin1("\xffyes")]]);
  // Unsynchronise the body: 0xFF followed by 0xE0 or more (or 0x00) gets a 0x00 inserted.
  const body: number[] = [];
  for (let i = 10; i < plain.length; i++) {
    body.push(plain[i]);
    if (
      plain[i] === 0xff && (i + 1 === plain.length || plain[i + 1] >= 0xe0 || plain[i + 1] === 0)
    ) {
      body.push(0);
    }
  }
  const size = body.length;
  const tag = new Uint8Array([
    0x49,
    0x44,
    0x33,
    3,
    0,
    0x80,
    (size >> 21) & 0x7f,
    (size >> 14) & 0x7f,
    (size >> 7) & 0x7f,
    size & 0x7f,
    ...body,
  ]);
  assert.deepEqual(parseId3v2(tag), { title: "ÿyes" });
});

Deno.test("Vorbis comments and RIFF INFO parsers keep complete entries of truncated blocks", () => {
  const entries = ["title=One", "ARTIST=A", "Artist=B", "ALBUM=Long album name"].map(utf8);
  const block: number[] = [3, 0, 0, 0, ...utf8("lib"), entries.length, 0, 0, 0];
  for (const entry of entries) block.push(entry.length, 0, 0, 0, ...entry);
  const bytes = new Uint8Array(block);
  assert.deepEqual(parseVorbisComment(bytes), {
    title: "One",
    artist: "A, B",
    album: "Long album name",
  });
  assert.deepEqual(parseVorbisComment(bytes.subarray(0, bytes.length - 3)), {
    title: "One",
    artist: "A, B",
  });

  const info = new Uint8Array([
    ...utf8("INFOINAM"),
    3,
    0,
    0,
    0,
    ...utf8("Hi\0"),
    0,
    ...utf8("IART"),
    9,
    0,
    0,
    0,
  ]);
  assert.deepEqual(parseRiffInfo(info), { title: "Hi" });
});

Deno.test({
  name: "a FLAC file with an ID3v2 tag in front decodes and reports both tags",
  ignore: !hasFfmpeg,
  async fn() {
    const dir = await tempDir();
    try {
      const path = `${dir.path}/with_id3.flac`;
      await ffmpeg(["-f", "lavfi", "-i", "sine=d=0.2:r=48000", "-metadata", "album=Inner", path]);
      const flac = await Deno.readFile(path);
      const tag = id3(4, [["TIT2", 3, utf8("Outer")]]);
      const bytes = new Uint8Array([...tag, ...flac]);
      const reported: TrackTags[] = [];
      const pcm = await collectPcm(
        decodeBuiltin(inPieces(bytes, 500), { onTags: (tags) => reported.push(tags) }),
      );
      assert.equal(pcm.length, 0.2 * 48000 * 2);
      assert.deepEqual(reported, [{ title: "Outer" }, { album: "Inner" }]);
    } finally {
      await dir.remove();
    }
  },
});
