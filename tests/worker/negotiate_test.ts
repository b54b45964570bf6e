import assert from "node:assert/strict";
import { chooseFormat, preferSourceFormat } from "../../worker/encoders/negotiate.ts";
import type { AudioFormat } from "../../protocol/messages.ts";

const f = (codec: AudioFormat["codec"], sample_rate = 48_000, channels = 2, bit_depth = 16) => ({
  codec,
  sample_rate,
  channels,
  bit_depth,
});

/** [what the client lists, in its order] → what it gets. */
const MATRIX: [string, AudioFormat[], AudioFormat | undefined][] = [
  ["Chrome over https", [f("opus"), f("flac"), f("flac", 44_100), f("pcm")], f("opus")],
  ["Safari", [f("opus"), f("pcm"), f("pcm", 44_100)], f("opus")],
  ["Firefox", [f("flac"), f("flac", 44_100), f("pcm"), f("pcm", 44_100)], f("flac")],
  ["44.1 kHz only", [f("pcm", 44_100)], f("pcm", 44_100)],
  ["FLAC 44.1 kHz first", [f("flac", 44_100), f("pcm")], f("flac", 44_100)],
  ["mono 24-bit PCM", [f("pcm", 48_000, 1, 24)], f("pcm", 48_000, 1, 24)],
  ["Opus at 44.1 kHz is not Opus", [f("opus", 44_100), f("pcm", 44_100)], f("pcm", 44_100)],
  ["six channels", [f("pcm", 48_000, 6)], undefined],
  ["8-bit", [f("pcm", 48_000, 2, 8)], undefined],
  ["nothing listed", [], undefined],
];

for (const [client, listed, expected] of MATRIX) {
  Deno.test(`negotiation: ${client}`, () => {
    assert.deepEqual(chooseFormat(listed), expected);
  });
}

Deno.test("the source's own format goes first where the client lists it in its first codec", () => {
  const f = (codec: AudioFormat["codec"], sample_rate: number, channels = 2, bit_depth = 16) =>
    ({ codec, sample_rate, channels, bit_depth }) as AudioFormat;
  const hires = { sampleRate: 44_100, bitDepth: 24, channels: 2 } as const;
  const listed = [f("flac", 48_000), f("flac", 44_100, 2, 24), f("pcm", 44_100, 2, 24)];
  assert.deepEqual(preferSourceFormat(listed, hires)[0], f("flac", 44_100, 2, 24));
  // Another codec at the source's format does not override the client's codec choice.
  assert.deepEqual(
    preferSourceFormat([f("opus", 48_000), f("pcm", 44_100, 2, 24)], hires)[0],
    f("opus", 48_000),
  );
  assert.deepEqual(
    preferSourceFormat([f("pcm", 48_000), f("flac", 44_100, 2, 24)], hires)[0],
    f("pcm", 48_000),
  );
  // Before any audio, or without a match, the client's order stands.
  assert.deepEqual(preferSourceFormat(listed, undefined), listed);
  assert.deepEqual(preferSourceFormat([f("pcm", 48_000)], hires), [f("pcm", 48_000)]);
});
