import assert from "node:assert/strict";
import { DEMO_BPM, DEMO_LOOP_FRAMES, renderDemo } from "../../../coordinator/sources/demo.ts";

Deno.test("the demo loops without a seam: frames across the loop end equal the loop start", () => {
  const across = renderDemo(DEMO_LOOP_FRAMES - 1_000, 3_000);
  const loop = renderDemo(0, DEMO_LOOP_FRAMES);
  const expected = [...loop.subarray(-2_000), ...loop.subarray(0, 4_000)];
  assert.deepEqual([...across], expected);
  assert.deepEqual([...renderDemo(3 * DEMO_LOOP_FRAMES + 5, 100)], [...renderDemo(5, 100)]);
});

Deno.test("the demo is deterministic and pieces concatenate to the whole", () => {
  const whole = renderDemo(10_000, 50_000);
  const pieces = [renderDemo(10_000, 7), renderDemo(10_007, 20_000), renderDemo(30_007, 29_993)];
  assert.deepEqual([...pieces.flatMap((p) => [...p])], [...whole]);
  assert.deepEqual([...renderDemo(10_000, 50_000)], [...whole]);
});

Deno.test("the loop joint jumps no more than any other downbeat (no click of its own)", () => {
  const beatFrames = (48_000 * 60) / DEMO_BPM;
  const jumpAt = (frame: number) => {
    const pcm = renderDemo(frame - 1 + DEMO_LOOP_FRAMES, 2);
    return Math.abs(pcm[2] - pcm[0]) + Math.abs(pcm[3] - pcm[1]);
  };
  const joint = jumpAt(0);
  const others = [];
  for (let bar = 1; bar < DEMO_LOOP_FRAMES / beatFrames / 4; bar++) {
    others.push(jumpAt(bar * 4 * beatFrames));
  }
  assert.ok(joint <= 1.25 * Math.max(...others), `joint ${joint}, other bars ${others}`);
});

Deno.test("the demo has beats: energy peaks on every beat", () => {
  const pcm = renderDemo(0, DEMO_LOOP_FRAMES);
  const windowFrames = 480; // 10 ms
  const energy = (frame: number) => {
    let sum = 0;
    for (let i = frame; i < frame + windowFrames; i++) sum += pcm[2 * i] ** 2;
    return sum / windowFrames;
  };
  const beatFrames = (48_000 * 60) / DEMO_BPM;
  const beats = DEMO_LOOP_FRAMES / beatFrames;
  for (let beat = 0; beat < beats; beat++) {
    const on = energy(beat * beatFrames);
    const off = energy(beat * beatFrames + beatFrames * 0.375); // between the hats
    assert.ok(on > 4 * off, `beat ${beat}: ${on.toFixed(0)} vs ${off.toFixed(0)}`);
  }
});

Deno.test("the demo's level: peak between -6 and -0.5 dBFS, no clipping, no DC, real stereo", () => {
  const pcm = renderDemo(0, DEMO_LOOP_FRAMES);
  let peak = 0, sumL = 0, sumR = 0, differ = 0, clipped = 0;
  for (let i = 0; i < pcm.length; i += 2) {
    peak = Math.max(peak, Math.abs(pcm[i]), Math.abs(pcm[i + 1]));
    sumL += pcm[i];
    sumR += pcm[i + 1];
    if (pcm[i] !== pcm[i + 1]) differ++;
    if (Math.abs(pcm[i]) >= 32767) clipped++;
  }
  const peakDb = 20 * Math.log10(peak / 32768);
  assert.ok(peakDb > -6 && peakDb < -0.5, `peak ${peakDb.toFixed(2)} dBFS`);
  assert.equal(clipped, 0);
  const frames = pcm.length / 2;
  assert.ok(Math.abs(sumL / frames) < 100 && Math.abs(sumR / frames) < 100, "no DC offset");
  assert.ok(differ > frames / 2, "left and right differ");
});
