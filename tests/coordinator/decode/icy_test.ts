import assert from "node:assert/strict";
import {
  parseStreamTitle,
  splitStreamTitle,
  stripIcyMetadata,
} from "../../../coordinator/decode/icy.ts";
import type { TrackTags } from "../../../coordinator/decode/builtin.ts";
import { inPieces } from "./helpers.ts";

const META_INT = 64;

/** A metadata block: length byte, then the text padded with NULs to a multiple of 16. */
function metadataBlock(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  const blocks = Math.ceil(bytes.length / 16);
  const padded = new Uint8Array(blocks * 16);
  padded.set(bytes);
  return [blocks, ...padded];
}

/** An ICY body carrying `audio` with the given metadata texts in turn ("" or none: empty block). */
function icyBody(audio: Uint8Array, texts: string[]): Uint8Array {
  const body: number[] = [];
  for (let offset = 0, block = 0; offset < audio.length; offset += META_INT, block++) {
    body.push(...audio.subarray(offset, offset + META_INT));
    if (offset + META_INT < audio.length) {
      const text = texts[block] ?? "";
      body.push(...(text ? metadataBlock(text) : [0]));
    }
  }
  return new Uint8Array(body);
}

const AUDIO = Uint8Array.from({ length: META_INT * 12 + 17 }, (_, i) => (i * 7) % 251);
const TEXTS = [
  "StreamTitle='Artist One - Song One';StreamUrl='';",
  "",
  "StreamTitle='Artist One - Song One';",
  "StreamTitle='Rock 'n' Roll Band - It's Here';",
  "",
  "StreamTitle='Just A Title';",
];
const EXPECTED_TAGS: TrackTags[] = [
  { artist: "Artist One", title: "Song One" },
  { artist: "Rock 'n' Roll Band", title: "It's Here" },
  { title: "Just A Title" },
];

async function strip(pieces: AsyncIterable<Uint8Array>) {
  const tags: TrackTags[] = [];
  const audio: number[] = [];
  for await (const piece of stripIcyMetadata(pieces, META_INT, { onTags: (t) => tags.push(t) })) {
    audio.push(...piece);
  }
  return { audio: new Uint8Array(audio), tags };
}

Deno.test("ICY stripping returns only the audio bytes, whatever the piece boundaries", async () => {
  const body = icyBody(AUDIO, TEXTS);
  // Every split point once (so that length bytes and metadata split every way), then random pieces.
  for (let split = 1; split < body.length; split++) {
    const result = await strip((async function* () {
      yield body.subarray(0, split);
      yield body.subarray(split);
    })());
    assert.deepEqual(result.audio, AUDIO, `split at ${split}`);
    assert.deepEqual(result.tags, EXPECTED_TAGS, `split at ${split}`);
  }
  for (const seed of [1, 2, 3]) {
    const result = await strip(inPieces(body, 40, seed));
    assert.deepEqual(result.audio, AUDIO);
    assert.deepEqual(result.tags, EXPECTED_TAGS);
  }
});

Deno.test("ICY StreamTitle is parsed and split into artist and title only when it has that shape", () => {
  assert.equal(parseStreamTitle("StreamTitle='A - B';StreamUrl='x';"), "A - B");
  assert.equal(parseStreamTitle("StreamTitle='';"), undefined);
  assert.equal(parseStreamTitle("StreamUrl='x';"), undefined);
  assert.equal(parseStreamTitle("StreamTitle='No terminator'"), "No terminator");
  assert.deepEqual(splitStreamTitle("Daft Punk - One More Time"), {
    artist: "Daft Punk",
    title: "One More Time",
  });
  assert.deepEqual(splitStreamTitle("Jingle"), { title: "Jingle" });
  assert.deepEqual(splitStreamTitle(" - odd"), { title: " - odd" });
});

Deno.test("ICY stripping refuses a missing or invalid icy-metaint", async () => {
  const iterator = stripIcyMetadata(inPieces(new Uint8Array(10)), 0);
  await assert.rejects(() => iterator.next(), /icy-metaint must be a positive integer, not 0/);
});
