import assert from "node:assert/strict";
import { chooseFormat } from "../../worker/encoders/negotiate.ts";
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
