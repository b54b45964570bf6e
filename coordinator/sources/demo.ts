/**
 * The built-in demo: an 8-bar house loop generated in code, so `--demo` needs no network,
 * no ffmpeg and no file. A punchy kick on every beat, claps on 2 and 4, hats, an off-beat
 * bass and a pumping chord pad under a plucked hook: beats that make the sync between phones
 * obvious. The loop is rendered once, on first use, into a buffer in which every tail wraps
 * around the loop end (see demo/loop.ts); `renderDemo` then only copies from it.
 */
import { CHANNELS } from "../../protocol/pcm.ts";
import { BPM, LOOP_FRAMES, renderLoop } from "./demo/loop.ts";

export const DEMO_BPM = BPM;
/** Length of the demo loop in frames (a whole number of bars, so the loop has no seam). */
export const DEMO_LOOP_FRAMES = LOOP_FRAMES;
export const DEMO_TAGS = { title: "Sendspin Party Demo", artist: "sendspin-party" };

let loop: Int16Array | undefined;

/**
 * 48 kHz stereo s16 interleaved PCM of the demo, `frames` frames starting at absolute frame
 * `startFrame` (any non-negative integer; the music repeats every DEMO_LOOP_FRAMES).
 */
export function renderDemo(startFrame: number, frames: number): Int16Array {
  if (!Number.isSafeInteger(startFrame) || startFrame < 0) {
    throw new RangeError(`startFrame must be a non-negative integer (got ${startFrame})`);
  }
  if (!Number.isSafeInteger(frames) || frames < 0) {
    throw new RangeError(`frames must be a non-negative integer (got ${frames})`);
  }
  loop ??= renderLoop();
  const out = new Int16Array(frames * CHANNELS);
  let written = 0;
  let position = startFrame % DEMO_LOOP_FRAMES;
  while (written < frames) {
    const take = Math.min(frames - written, DEMO_LOOP_FRAMES - position);
    out.set(loop.subarray(position * CHANNELS, (position + take) * CHANNELS), written * CHANNELS);
    written += take;
    position = 0;
  }
  return out;
}
