/**
 * The demo's instruments, built from a few whole-buffer operations (noise, oscillators, a
 * state-variable filter, envelopes). Each operation is one tight loop shared by every voice,
 * so V8 optimizes a handful of loops early instead of warming up one per instrument: the
 * first render stays fast even on a slow machine.
 */
import { SAMPLE_RATE } from "../../../protocol/pcm.ts";

/** Left and right channels of one voice or bus. */
export type Stereo = [Float32Array, Float32Array];

export function stereo(frames: number): Stereo {
  return [new Float32Array(frames), new Float32Array(frames)];
}

export const seconds = (s: number): number => Math.round(s * SAMPLE_RATE);

export function midiHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

/** The per-sample factor of a decay to 1/e over `time` seconds. */
function decayFactor(time: number): number {
  return Math.exp(-1 / (time * SAMPLE_RATE));
}

const SINE_SIZE = 1_024;
const SINE = new Float32Array(SINE_SIZE + 1).map((_, i) => Math.sin((2 * Math.PI * i) / SINE_SIZE));

/** sin(2π·cycles) from a table: Math.sin costs ~20 ns a call. */
function sine(cycles: number): number {
  const x = (cycles - Math.floor(cycles)) * SINE_SIZE;
  const i = x | 0;
  return SINE[i] + (x - i) * (SINE[i + 1] - SINE[i]);
}

/** Seeded white noise (mulberry32): the demo sounds the same on every run and machine. */
export class Noise {
  constructor(private state: number) {}

  /** Fills `samples` with noise in [-1, 1). */
  fill(samples: Float32Array): Float32Array {
    let state = this.state;
    for (let i = 0; i < samples.length; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      samples[i] = ((t ^ (t >>> 14)) >>> 0) / 2_147_483_648 - 1;
    }
    this.state = state;
    return samples;
  }

  /** A number in [0, 1). */
  next(): number {
    return (this.fill(new Float32Array(1))[0] + 1) / 2;
  }
}

/**
 * Adds `gain * voice` into `bus` from frame `at` on; whatever runs past the end of the bus
 * continues at its start, so a bus that loops has no seam.
 */
export function addWrapped(bus: Float32Array, voice: Float32Array, at: number, gain: number) {
  let to = at % bus.length;
  let from = 0;
  while (from < voice.length) {
    const run = Math.min(voice.length - from, bus.length - to);
    for (let i = 0; i < run; i++) bus[to + i] += gain * voice[from + i];
    from += run;
    to = 0;
  }
}

/** Adds a PolyBLEP (band-limited) sawtooth at `hz` starting at `phase` (cycles). */
function addSaw(samples: Float32Array, hz: number, phase: number, gain: number) {
  const dt = hz / SAMPLE_RATE;
  for (let i = 0; i < samples.length; i++) {
    let y = 2 * phase - 1;
    if (phase < dt) {
      const x = phase / dt;
      y -= x + x - x * x - 1;
    } else if (phase > 1 - dt) {
      const x = (phase - 1) / dt;
      y -= x * x + x + x + 1;
    }
    samples[i] += gain * y;
    phase += dt;
    if (phase >= 1) phase -= 1;
  }
}

/** Adds a sine at `hz` whose level starts at `gain` and decays to 1/e every `time` seconds. */
function addSine(samples: Float32Array, hz: number, gain: number, time = Infinity) {
  // The rotation recurrence sin(n+1) = 2·cos(w)·sin(n) − sin(n−1): no table, no call.
  const w = (2 * Math.PI * hz) / SAMPLE_RATE, twoCos = 2 * Math.cos(w), factor = decayFactor(time);
  let previous = -Math.sin(w), current = 0;
  for (let i = 0; i < samples.length; i++) {
    samples[i] += gain * current;
    const next = twoCos * current - previous;
    previous = current;
    current = next;
    gain *= factor;
  }
}

type FilterMode = "low" | "band" | "high";

/**
 * Zavalishin's topology-preserving state-variable filter, in place. The cutoff starts at
 * `fromHz` and glides exponentially to `hz` (1/e every `glide` seconds).
 */
function filter(
  samples: Float32Array,
  mode: FilterMode,
  hz: number,
  q: number,
  fromHz = hz,
  glide = 1,
) {
  const k = 1 / q, factor = decayFactor(glide) ** 32;
  const low = mode === "low", band = mode === "band";
  let offset = fromHz - hz, s1 = 0, s2 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (let i = 0; i < samples.length; i++) {
    if ((i & 31) === 0) {
      const g = Math.tan((Math.PI * (hz + offset)) / SAMPLE_RATE);
      a1 = 1 / (1 + g * (g + k));
      a2 = g * a1;
      a3 = g * a2;
      offset *= factor;
    }
    const x = samples[i];
    const v3 = x - s2;
    const v1 = a1 * s1 + a2 * v3;
    const v2 = s2 + a2 * s1 + a3 * v3;
    s1 = 2 * v1 - s1;
    s2 = 2 * v2 - s2;
    samples[i] = low ? v2 : band ? v1 : x - k * v1 - v2;
  }
}

interface Shape {
  /** Frames of the raised-cosine fade-in. */
  attack: number;
  /** Frames at full level before the decay starts. */
  hold?: number;
  /** Seconds for the level to fall to 1/e of the way to `sustain` (default: no decay). */
  decay?: number;
  sustain?: number;
  /** Frames of the raised-cosine fade-out that ends the voice. */
  release: number;
  /** Frames into the voice where the release starts (default: `release` before the end). */
  releaseAt?: number;
}

/**
 * Multiplies a voice by its envelope: attack, decay towards the sustain level, release.
 * Only the frames whose gain is not 1 are touched.
 */
function shape(samples: Float32Array, envelope: Shape) {
  const { attack, hold = 0, decay, sustain = 0, release } = envelope;
  const end = envelope.releaseAt ?? samples.length - release;
  for (let i = 0; i < attack; i++) samples[i] *= 0.5 - 0.5 * Math.cos((Math.PI * i) / attack);
  if (decay !== undefined) {
    const factor = decayFactor(decay);
    let level = 1;
    for (let i = hold; i < samples.length; i++) {
      level *= factor;
      samples[i] *= sustain + (1 - sustain) * level;
    }
  }
  for (let i = end; i < samples.length; i++) {
    samples[i] *= i - end < release ? 0.5 + 0.5 * Math.cos((Math.PI * (i - end)) / release) : 0;
  }
}

/** Kick: a sine swept from ~240 Hz down to 44 Hz, a noise click on top, lightly saturated. */
export function kick(noise: Noise): Float32Array {
  const out = new Float32Array(seconds(0.42));
  const click = noise.fill(new Float32Array(144));
  filter(click, "high", 4_000, 0.7);
  shape(click, { attack: 12, release: 132 });
  const hold = seconds(0.02), fade = out.length - seconds(0.04);
  const sweepFactor = decayFactor(0.03), levelFactor = decayFactor(0.08);
  let phase = 0, sweep = 200, level = 1;
  for (let i = 0; i < out.length; i++) {
    const at = phase * SINE_SIZE, index = at | 0;
    const body = SINE[index] + (at - index) * (SINE[index + 1] - SINE[index]);
    const x = level * body + (i < click.length ? 0.4 * click[i] : 0);
    out[i] = Math.tanh(1.4 * x) * (i < fade ? 1 : (out.length - i) / (out.length - fade));
    phase += (44 + sweep) / SAMPLE_RATE;
    if (phase >= 1) phase -= 1;
    sweep *= sweepFactor;
    if (i >= hold) level *= levelFactor;
  }
  return out;
}

/** Clap: three quick bursts of band-passed noise and a tail, over a short snare-drum tone. */
export function clap(noise: Noise): Stereo {
  const out = stereo(seconds(0.36));
  const burst = seconds(0.009), burstFactor = decayFactor(0.0025), tailFactor = decayFactor(0.08);
  for (const [channel, hz] of [[0, 1_050], [1, 1_250]]) {
    const samples = noise.fill(out[channel]);
    filter(samples, "band", hz, 1.2);
    let level = 1;
    for (let i = 0; i < samples.length; i++) {
      if (i < 3 * burst && i % burst === 0) level = 1;
      samples[i] *= 3 * level; // band-passed noise is quiet: lift it
      level *= i < 3 * burst ? burstFactor : tailFactor;
    }
    addSine(samples, 190, 0.2, 0.04);
    shape(samples, { attack: 0, release: seconds(0.02) });
  }
  return out;
}

/** Hi-hat or crash: high-passed noise, different on each side, decaying over `time` seconds. */
export function cymbal(noise: Noise, hz: number, time: number, length: number): Stereo {
  const out = stereo(seconds(length));
  for (const samples of out) {
    filter(noise.fill(samples), "high", hz, 0.9);
    shape(samples, { attack: 24, decay: time, release: seconds(Math.min(0.05, length / 4)) });
  }
  return out;
}

/** Bass: a sawtooth and a sine sub, through a resonant low-pass that closes after the attack. */
export function bassNote(note: number, frames: number): Float32Array {
  const out = new Float32Array(frames);
  const hz = midiHz(note);
  addSaw(out, hz, 0, 1);
  filter(out, "low", 2.5 * hz, 1.4, 2.5 * hz + 2_400, 0.045);
  addSine(out, hz, 0.7);
  shape(out, { attack: 96, decay: 0.1, sustain: 0.7, release: 480 });
  return out;
}

/**
 * Pad: each note as two saws detuned apart, one to each side, through a low-pass that opens
 * over the chord; holds `hold` frames, then releases. Its content stays below ~5 kHz, so it
 * is rendered at half the sample rate, which halves its cost: every frequency is doubled and
 * every length halved. Add it with `addDoubled`.
 */
export function padChord(notes: number[], hold: number, release: number, noise: Noise): Stereo {
  const [left, right] = stereo((hold + release) / 2);
  for (const note of notes) {
    addSaw(left, 2 * midiHz(note - 0.08), noise.next(), 1);
    addSaw(right, 2 * midiHz(note + 0.08), noise.next(), 1);
  }
  filter(left, "low", 2 * 2_700, 0.8, 2 * 700, 1.2 / 2);
  filter(right, "low", 2 * 2_850, 0.8, 2 * 740, 1.2 / 2);
  for (const samples of [left, right]) {
    shape(samples, { attack: seconds(0.08) / 2, release: release / 2, releaseAt: hold / 2 });
  }
  return [left, right];
}

/**
 * Like `addWrapped`, for a voice rendered at half the sample rate: every second frame is
 * interpolated between its neighbours.
 */
export function addDoubled(bus: Float32Array, voice: Float32Array, at: number, gain: number) {
  let to = at % bus.length;
  for (let i = 0; i < voice.length; i++) {
    const x = gain * voice[i];
    bus[to] += x;
    if (++to === bus.length) to = 0;
    bus[to] += 0.5 * (x + (i + 1 < voice.length ? gain * voice[i + 1] : 0));
    if (++to === bus.length) to = 0;
  }
}

/** Pluck for the hook: a two-operator FM bell whose brightness decays faster than its level. */
export function pluck(note: number): Float32Array {
  const out = new Float32Array(seconds(0.5));
  const dt = midiHz(note) / SAMPLE_RATE;
  const brightFactor = decayFactor(0.06);
  let phase = 0, bright = 2.5;
  for (let i = 0; i < out.length; i++) {
    out[i] = sine(phase + ((0.5 + bright) / (2 * Math.PI)) * sine(phase));
    bright *= brightFactor;
    phase += dt;
    if (phase >= 1) phase -= 1;
  }
  addSine(out, 2 * midiHz(note), 0.25, 0.08);
  shape(out, { attack: 96, decay: 0.16, release: seconds(0.05) });
  return out;
}
