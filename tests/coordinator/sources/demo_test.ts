import assert from "node:assert/strict";
import {
  DEMO_BPM,
  DEMO_LOOP_FRAMES,
  DEMO_TAGS,
  renderDemo,
} from "../../../coordinator/sources/demo.ts";
import { addDoubled, addWrapped } from "../../../coordinator/sources/demo/synth.ts";
import { CHANNELS, SAMPLE_RATE } from "../../../protocol/pcm.ts";

const BEAT_FRAMES = (SAMPLE_RATE * 60) / DEMO_BPM;
const loop = renderDemo(0, DEMO_LOOP_FRAMES);

/** Left + right of frame `frame` of the loop. */
const mono = (frame: number) => loop[CHANNELS * frame] + loop[CHANNELS * frame + 1];

/** Mean square of the mono mix over the 10 ms from `frame` on. */
function energy(frame: number): number {
  const window = SAMPLE_RATE / 100;
  let sum = 0;
  for (let i = frame; i < frame + window; i++) sum += mono(i % DEMO_LOOP_FRAMES) ** 2;
  return sum / window;
}

Deno.test("the demo is a dance tempo and its loop a whole number of bars", () => {
  assert.ok(DEMO_BPM >= 118 && DEMO_BPM <= 130, `${DEMO_BPM} BPM`);
  assert.ok(Number.isInteger(BEAT_FRAMES), "every beat starts on a whole frame");
  assert.equal(DEMO_LOOP_FRAMES % (4 * BEAT_FRAMES), 0);
  assert.ok(DEMO_LOOP_FRAMES >= 8 * 4 * BEAT_FRAMES, "at least 8 bars");
  assert.equal(loop.length, DEMO_LOOP_FRAMES * CHANNELS);
  assert.ok(DEMO_TAGS.title && DEMO_TAGS.artist);
});

Deno.test("rendering across the loop end equals the same frames from the loop start", () => {
  const across = renderDemo(DEMO_LOOP_FRAMES - 1_000, 3_000);
  assert.deepEqual(across.subarray(0, 1_000 * CHANNELS), loop.subarray(-1_000 * CHANNELS));
  assert.deepEqual(across.subarray(1_000 * CHANNELS), loop.subarray(0, 2_000 * CHANNELS));
  assert.deepEqual(renderDemo(3 * DEMO_LOOP_FRAMES + 5, 100), renderDemo(5, 100));
  const twice = renderDemo(7, 2 * DEMO_LOOP_FRAMES);
  assert.deepEqual(
    twice.subarray(0, DEMO_LOOP_FRAMES * CHANNELS),
    twice.subarray(DEMO_LOOP_FRAMES * CHANNELS),
  );
});

Deno.test("the demo is deterministic, and pieces of any size concatenate to the whole", () => {
  const start = DEMO_LOOP_FRAMES - 123_456; // the pieces cross the loop end
  const whole = renderDemo(start, 300_000);
  assert.deepEqual(renderDemo(start, 300_000), whole);
  const pieces = new Int16Array(whole.length);
  let frame = 0;
  for (const size of [0, 1, 7, 2_880, 9_600, 100_000, 120_000, 1, 4_800]) {
    pieces.set(renderDemo(start + frame, size), frame * CHANNELS);
    frame += size;
  }
  pieces.set(renderDemo(start + frame, 300_000 - frame), frame * CHANNELS);
  assert.deepEqual(pieces, whole);
});

Deno.test("renderDemo rejects a negative or fractional position or length", () => {
  assert.equal(renderDemo(12_345, 0).length, 0);
  assert.throws(() => renderDemo(-1, 10), RangeError);
  assert.throws(() => renderDemo(1.5, 10), RangeError);
  assert.throws(() => renderDemo(0, -10), RangeError);
  assert.throws(() => renderDemo(0, Number.NaN), RangeError);
});

Deno.test("a voice's tail that runs past the end of a loop continues at its start", () => {
  const bus = new Float32Array(10);
  addWrapped(bus, Float32Array.of(1, 2, 3, 4, 5), 8, 2);
  assert.deepEqual([...bus], [6, 8, 10, 0, 0, 0, 0, 0, 2, 4]);
  addWrapped(bus, Float32Array.of(1, 1), 23, 1); // positions are taken modulo the loop
  assert.deepEqual([...bus], [6, 8, 10, 1, 1, 0, 0, 0, 2, 4]);
  // A half-rate voice: every second frame interpolated, the tail wrapped just the same.
  const doubled = new Float32Array(6);
  addDoubled(doubled, Float32Array.of(2, 4), 4, 1);
  assert.deepEqual([...doubled], [4, 2, 0, 0, 2, 3]);
});

Deno.test("the sample-to-sample jump at the loop joint is no larger than those around it", () => {
  for (let channel = 0; channel < CHANNELS; channel++) {
    const at = (frame: number) =>
      loop[CHANNELS * ((frame + DEMO_LOOP_FRAMES) % DEMO_LOOP_FRAMES) + channel];
    const joint = Math.abs(at(0) - at(-1));
    const around: number[] = [];
    for (let frame = -480; frame < 480; frame++) {
      if (frame !== 0) around.push(Math.abs(at(frame) - at(frame - 1)));
    }
    around.sort((a, b) => a - b);
    const typical = around[Math.floor(around.length / 2)];
    assert.ok(joint <= typical, `channel ${channel}: joint ${joint}, median ${typical}`);
  }
});

Deno.test("it has beats: the 10 ms energy peaks at every beat, well above the rest of it", () => {
  const window = SAMPLE_RATE / 100;
  for (let beat = 0; beat < DEMO_LOOP_FRAMES / BEAT_FRAMES; beat++) {
    const start = beat * BEAT_FRAMES;
    const on = energy(start);
    let off = 0, count = 0;
    for (
      let frame = start + BEAT_FRAMES / 8;
      frame < start + (7 * BEAT_FRAMES) / 8;
      frame += window
    ) {
      off += energy(frame);
      count++;
    }
    off /= count;
    assert.ok(on > 4 * off, `beat ${beat}: ${on.toExponential(2)} vs ${off.toExponential(2)}`);
    // The loudest 10 ms within an eighth of a beat either side starts right on the beat.
    let loudest = start - BEAT_FRAMES / 8;
    for (let frame = loudest; frame < start + BEAT_FRAMES / 8; frame += 48) {
      if (energy(frame + DEMO_LOOP_FRAMES) > energy(loudest + DEMO_LOOP_FRAMES)) loudest = frame;
    }
    const late = ((loudest - start) / SAMPLE_RATE) * 1000;
    assert.ok(late >= 0 && late <= 20, `beat ${beat}: loudest at ${late} ms`);
  }
});

Deno.test("level: peak -6 to -0.5 dBFS, never clipped, no DC, two different live channels", () => {
  let peak = 0, clipped = 0;
  const sums = [0, 0], squares = [0, 0];
  let differ = 0, product = 0;
  for (let i = 0; i < DEMO_LOOP_FRAMES; i++) {
    const left = loop[CHANNELS * i], right = loop[CHANNELS * i + 1];
    for (const [c, x] of [[0, left], [1, right]]) {
      peak = Math.max(peak, Math.abs(x));
      if (Math.abs(x) >= 32_767) clipped++;
      sums[c] += x;
      squares[c] += x * x;
    }
    if (left !== right) differ++;
    product += left * right;
  }
  const peakDb = 20 * Math.log10(peak / 32_768);
  assert.ok(peakDb > -6 && peakDb < -0.5, `peak ${peakDb.toFixed(2)} dBFS`);
  assert.equal(clipped, 0, "no sample at full scale");
  for (let c = 0; c < CHANNELS; c++) {
    const dc = sums[c] / DEMO_LOOP_FRAMES;
    assert.ok(Math.abs(dc) < 16, `channel ${c}: DC ${dc.toFixed(1)}`);
    const rmsDb = 10 * Math.log10(squares[c] / DEMO_LOOP_FRAMES / 32_768 ** 2);
    assert.ok(rmsDb > -24, `channel ${c}: RMS ${rmsDb.toFixed(1)} dBFS`);
  }
  assert.ok(differ > DEMO_LOOP_FRAMES / 2, "left and right differ");
  const correlation = product / Math.sqrt(squares[0] * squares[1]);
  assert.ok(correlation < 0.995, `stereo correlation ${correlation.toFixed(4)}`);
});

Deno.test("a fresh process renders the demo with no permissions at all", async () => {
  const demo = import.meta.resolve("../../../coordinator/sources/demo.ts");
  const script = `import { renderDemo } from ${JSON.stringify(demo)};
    const started = performance.now();
    renderDemo(0, 0);
    console.log(performance.now() - started);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-config", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const milliseconds = Number(new TextDecoder().decode(stdout));
  assert.ok(Number.isFinite(milliseconds), "it rendered");
  // Speed is for benchmarks, not tests: report it only (~75 ms here, a Pi is 5-10x slower).
  console.log(`first render of the demo loop: ${milliseconds.toFixed(0)} ms`);
});
