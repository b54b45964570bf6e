/** Picks the output format for a listener: the first entry of its list that we can produce. */
import type { AudioFormat } from "../../protocol/messages.ts";
import { PCM_BIT_DEPTHS, PcmEncoder } from "./pcm_encoder.ts";
import type { Encoder } from "./encoder.ts";

const MIN_RATE = 8_000;
const MAX_RATE = 192_000;

export function canProduce(format: AudioFormat): boolean {
  return format.codec === "pcm" && format.sample_rate >= MIN_RATE &&
    format.sample_rate <= MAX_RATE && (format.channels === 1 || format.channels === 2) &&
    PCM_BIT_DEPTHS.includes(format.bit_depth);
}

export function chooseFormat(supported: readonly AudioFormat[]): AudioFormat | undefined {
  return supported.find(canProduce);
}

/** A stable key, so listeners of one format share one encoder. */
export function formatKey(format: AudioFormat): string {
  return `${format.codec}/${format.sample_rate}/${format.channels}/${format.bit_depth}`;
}

export function createEncoder(format: AudioFormat): Encoder {
  return new PcmEncoder(format);
}
