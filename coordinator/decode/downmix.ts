/**
 * Stereo downmix for sources with more than two channels.
 *
 * Each speaker goes to left/right with the weights below (centre and surrounds at -3 dB, LFE
 * dropped, as in ITU-R BS.775), then each output row is divided by the sum of its weights so
 * that full-scale input cannot clip. ffmpeg's default rematrixing normalises the same way, so
 * the two paths sound alike, though they are not bit-identical for multichannel input.
 */
import type { Speaker } from "./types.ts";

const HALF_POWER = Math.SQRT1_2;

const WEIGHTS: Record<Speaker, readonly [left: number, right: number]> = {
  FL: [1, 0],
  FR: [0, 1],
  FC: [HALF_POWER, HALF_POWER],
  LFE: [0, 0],
  BL: [HALF_POWER, 0],
  BR: [0, HALF_POWER],
  FLC: [1, 0],
  FRC: [0, 1],
  BC: [HALF_POWER, HALF_POWER],
  SL: [HALF_POWER, 0],
  SR: [0, HALF_POWER],
  other: [HALF_POWER, HALF_POWER],
};

/** WAVE, FLAC and SMPTE order by channel count (also ffmpeg's guess for masks-less WAV). */
const WAV_ORDER: Record<number, readonly Speaker[]> = {
  3: ["FL", "FR", "FC"],
  4: ["FL", "FR", "BL", "BR"],
  5: ["FL", "FR", "FC", "BL", "BR"],
  6: ["FL", "FR", "FC", "LFE", "BL", "BR"],
  7: ["FL", "FR", "FC", "LFE", "BC", "SL", "SR"],
  8: ["FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"],
};

/** Vorbis I and Opus (mapping family 1) order by channel count. */
const VORBIS_ORDER: Record<number, readonly Speaker[]> = {
  3: ["FL", "FC", "FR"],
  4: ["FL", "FR", "BL", "BR"],
  5: ["FL", "FC", "FR", "BL", "BR"],
  6: ["FL", "FC", "FR", "BL", "BR", "LFE"],
  7: ["FL", "FC", "FR", "SL", "SR", "BC", "LFE"],
  8: ["FL", "FC", "FR", "SL", "SR", "BL", "BR", "LFE"],
};

/** Speakers of WAVE_FORMAT_EXTENSIBLE channel-mask bits 0..10; higher bits are "other". */
const MASK_BITS: readonly Speaker[] = [
  "FL",
  "FR",
  "FC",
  "LFE",
  "BL",
  "BR",
  "FLC",
  "FRC",
  "BC",
  "SL",
  "SR",
];

export function defaultSpeakers(channelCount: number, order: "wav" | "vorbis"): Speaker[] {
  const known = (order === "wav" ? WAV_ORDER : VORBIS_ORDER)[channelCount];
  if (known) return [...known];
  // Unknown layouts: alternate left/right so that both sides get something.
  return Array.from({ length: channelCount }, (_, i) => (i % 2 === 0 ? "FL" : "FR"));
}

/** Speakers named by a WAVE channel mask, in channel order; falls back to the WAVE order. */
export function speakersFromMask(mask: number, channelCount: number): Speaker[] {
  const speakers: Speaker[] = [];
  for (let bit = 0; bit < 32 && speakers.length < channelCount; bit++) {
    if ((mask >>> bit) & 1) speakers.push(MASK_BITS[bit] ?? "other");
  }
  return speakers.length === channelCount ? speakers : defaultSpeakers(channelCount, "wav");
}

/** Mixes any number of channels down to [left, right]. */
export function downmixToStereo(
  channels: readonly Float32Array[],
  speakers: readonly Speaker[],
): [Float32Array, Float32Array] {
  const frames = channels[0]?.length ?? 0;
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  const weights = channels.map((_, c) => WEIGHTS[speakers[c] ?? "other"]);
  const leftSum = weights.reduce((sum, [toLeft]) => sum + toLeft, 0);
  const rightSum = weights.reduce((sum, [, toRight]) => sum + toRight, 0);
  channels.forEach((channel, c) => {
    const leftGain = leftSum > 0 ? weights[c][0] / leftSum : 0;
    const rightGain = rightSum > 0 ? weights[c][1] / rightSum : 0;
    for (let i = 0; i < frames; i++) {
      left[i] += channel[i] * leftGain;
      right[i] += channel[i] * rightGain;
    }
  });
  return [left, right];
}
