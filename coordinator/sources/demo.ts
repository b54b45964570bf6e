/**
 * The built-in demo: a 125 BPM house loop generated in code, so `--demo` needs no network,
 * no ffmpeg and no file. Kick on every beat, claps on 2 and 4, hats, an off-beat bass and a
 * chord pad that pumps with the kick: beats that make the sync between phones obvious.
 * The loop is rendered once into a buffer in which every tail wraps around the loop end,
 * so it repeats without a seam; `renderDemo` then only copies.
 */
import { CHANNELS, SAMPLE_RATE } from "../../protocol/pcm.ts";

export const DEMO_BPM = 125;
/** 125 BPM at 48 kHz is exactly 23,040 frames a beat. */
const BEAT_FRAMES = (SAMPLE_RATE * 60) / DEMO_BPM;
const BARS = 8;
export const DEMO_LOOP_FRAMES = BARS * 4 * BEAT_FRAMES;
export const DEMO_TAGS = { title: "Sendspin Party Demo", artist: "sendspin-party" };

/** Peak level of the loop: -1.5 dBFS. */
const PEAK = 10 ** (-1.5 / 20);

/** Am – F – C – G, two bars each (MIDI note numbers). */
const CHORDS = [[57, 60, 64], [53, 57, 60], [48, 52, 55], [55, 59, 62]];
const BASS_ROOTS = [33, 29, 36, 31];

let loop: Int16Array | undefined;

export function renderDemo(startFrame: number, frames: number): Int16Array {
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

type Mix = [Float32Array, Float32Array];

function renderLoop(): Int16Array {
  const mix: Mix = [new Float32Array(DEMO_LOOP_FRAMES), new Float32Array(DEMO_LOOP_FRAMES)];
  const random = seeded(2024);
  for (let beat = 0; beat < BARS * 4; beat++) {
    const at = beat * BEAT_FRAMES;
    kick(mix, at);
    if (beat % 2 === 1) clap(mix, at, random);
    hat(mix, at + BEAT_FRAMES / 2, 0.16, 0.09, random); // open hat on the off-beat
    hat(mix, at + BEAT_FRAMES / 4, 0.05, 0.02, random);
    hat(mix, at + (3 * BEAT_FRAMES) / 4, 0.05, 0.02, random);
    const chord = Math.floor(beat / 8) % CHORDS.length;
    bass(mix, at + BEAT_FRAMES / 2, BASS_ROOTS[chord] + (beat % 4 === 3 ? 12 : 0));
  }
  for (let bar = 0; bar < BARS; bar += 2) pad(mix, bar * 4 * BEAT_FRAMES, CHORDS[bar / 2 % 4]);
  return master(mix);
}

/** Adds `length` frames of `voice(i)` at `at`, wrapping around the loop end. */
function add(mix: Mix, at: number, length: number, voice: (i: number) => [number, number]) {
  for (let i = 0; i < length; i++) {
    const [left, right] = voice(i);
    const index = (at + i) % DEMO_LOOP_FRAMES;
    mix[0][index] += left;
    mix[1][index] += right;
  }
}

function kick(mix: Mix, at: number) {
  let phase = 0;
  add(mix, at, 0.4 * SAMPLE_RATE, (i) => {
    const t = i / SAMPLE_RATE;
    phase += (2 * Math.PI * (48 + 110 * Math.exp(-t * 35))) / SAMPLE_RATE;
    const click = i < 96 ? (1 - i / 96) * 0.3 : 0;
    const value = 0.9 * Math.sin(phase) * Math.exp(-t * 7) + click;
    return [value, value];
  });
}

function clap(mix: Mix, at: number, random: () => number) {
  let low = 0;
  add(mix, at, 0.25 * SAMPLE_RATE, (i) => {
    const t = i / SAMPLE_RATE;
    const noise = random() * 2 - 1;
    low += 0.25 * (noise - low);
    const band = noise - low; // crude high-pass: the clap's snap
    const bursts = t < 0.03 ? 0.6 + 0.4 * Math.cos(t * 2 * Math.PI * 100) : 1;
    const value = 0.35 * band * bursts * Math.exp(-t * 18);
    return [value * 0.9, value];
  });
}

function hat(mix: Mix, at: number, decaySeconds: number, level: number, random: () => number) {
  let previous = 0;
  add(mix, at, decaySeconds * 3 * SAMPLE_RATE, (i) => {
    const noise = random() * 2 - 1;
    const high = noise - previous; // first difference: only the sizzle remains
    previous = noise;
    const value = level * high * Math.exp(-i / (decaySeconds * SAMPLE_RATE));
    return [value, value * 0.8];
  });
}

function bass(mix: Mix, at: number, note: number) {
  const frequency = midiHz(note);
  let low = 0;
  add(mix, at, BEAT_FRAMES / 2, (i) => {
    const t = i / SAMPLE_RATE;
    const saw = 2 * ((t * frequency) % 1) - 1;
    low += 0.06 * (saw - low);
    const envelope = Math.min(1, i / 120) * Math.exp(-t * 5) *
      Math.min(1, (BEAT_FRAMES / 2 - i) / 480);
    const value = 0.45 * low * envelope;
    return [value, value];
  });
}

/** Two bars of a detuned-saw chord, ducked by the kick on every beat (the "pump"). */
function pad(mix: Mix, at: number, notes: number[]) {
  const length = 8 * BEAT_FRAMES;
  const lows = [0, 0];
  add(mix, at, length + SAMPLE_RATE / 2, (i) => {
    const t = i / SAMPLE_RATE;
    const out = [0, 0];
    for (const note of notes) {
      const f = midiHz(note + 12);
      out[0] += saw(t * f * 0.997) + saw(t * f * 1.004);
      out[1] += saw(t * f * 1.002) + saw(t * f * 0.995);
    }
    const release = i < length ? 1 : Math.exp(-(i - length) / (0.08 * SAMPLE_RATE));
    const attack = Math.min(1, i / 2400);
    const beatPhase = ((at + i) % BEAT_FRAMES) / BEAT_FRAMES;
    const pump = 0.35 + 0.65 * Math.min(1, beatPhase * 2.5);
    for (let c = 0; c < 2; c++) lows[c] += 0.08 * (out[c] - lows[c]);
    const gain = 0.05 * attack * release * pump;
    return [lows[0] * gain, lows[1] * gain];
  });
}

function master(mix: Mix): Int16Array {
  let peak = 0;
  for (const channel of mix) {
    for (let i = 0; i < channel.length; i++) {
      channel[i] = Math.tanh(channel[i] * 1.2); // soft clip: no harsh edges
      peak = Math.max(peak, Math.abs(channel[i]));
    }
  }
  const scale = (PEAK * 32767) / peak;
  const out = new Int16Array(DEMO_LOOP_FRAMES * CHANNELS);
  for (let i = 0; i < DEMO_LOOP_FRAMES; i++) {
    out[2 * i] = Math.round(mix[0][i] * scale);
    out[2 * i + 1] = Math.round(mix[1][i] * scale);
  }
  return out;
}

function saw(cycles: number): number {
  return 2 * (cycles % 1) - 1;
}

function midiHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

/** Deterministic noise: the demo sounds the same on every run and every machine. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}
