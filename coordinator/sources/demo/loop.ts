/**
 * The demo's arrangement and mixdown: 8 bars of house at 125 BPM in A minor, over
 * Am7 – Fmaj7 – C – G (two bars each). The drums are one bar, repeated; bass and pad are ducked
 * by the kick; a plucked hook has a ping-pong echo; a crash marks the top of the loop. Every
 * part is rendered into a buffer whose length divides the loop, with the tails that run past
 * its end wrapped to its start, so the loop joins without a seam.
 */
import { CHANNELS, SAMPLE_RATE } from "../../../protocol/pcm.ts";
import {
  addDoubled,
  addWrapped,
  bassNote,
  clap,
  cymbal,
  kick,
  Noise,
  padChord,
  pluck,
  type Stereo,
  stereo,
} from "./synth.ts";

export const BPM = 125;
/** 125 BPM at 48 kHz is exactly 23,040 frames a beat, so every step falls on a whole frame. */
export const BEAT_FRAMES = (SAMPLE_RATE * 60) / BPM;
const STEP = BEAT_FRAMES / 4;
const BAR = 4 * BEAT_FRAMES;
export const LOOP_FRAMES = 8 * BAR;

/** Peak level of the loop: -1.5 dBFS. */
const PEAK = 10 ** (-1.5 / 20);

const CHORDS = [[57, 60, 64, 67], [53, 57, 60, 64], [55, 60, 64, 67], [55, 59, 62, 67]];
const BASS_ROOTS = [33, 29, 36, 31];
/** Bass per bar of a chord: [sixteenth, semitones above the root]; off-beat, octave jumps. */
const BASS_BARS = [[[2, 0], [6, 0], [10, 0], [14, 12]], [[2, 0], [6, 12], [10, 0], [14, 7]]];
/** The hook per chord: [eighth within the chord's two bars, MIDI note]. */
const HOOK = [
  [[0, 76], [3, 72], [6, 74], [10, 72], [12, 69]],
  [[0, 77], [3, 72], [6, 76], [10, 72], [12, 69]],
  [[0, 76], [3, 72], [6, 74], [10, 76], [12, 79]],
  [[0, 79], [3, 74], [6, 74], [8, 71], [10, 74], [13, 76]],
];
/** The hook's echo: [channel, gain] every dotted eighth, alternating right and left. */
const ECHO_FRAMES = 3 * STEP;
const ECHOES = [[1, 0.4], [0, 0.3], [1, 0.2], [0, 0.12]];

/** Renders the whole loop: 48 kHz stereo s16 interleaved, `LOOP_FRAMES` frames. */
export function renderLoop(): Int16Array {
  const noise = new Noise(0x5e4d5);
  const drums = drumBar(noise);
  const synth = bassAndPad(noise);
  const mix = stereo(LOOP_FRAMES);
  hookAndCrash(mix, noise);
  const pump = sidechain();
  const left = mixDown(mix[0], drums[0], synth[0], pump);
  const right = mixDown(mix[1], drums[1], synth[1], pump);
  const peak = Math.max(left.high - left.mean, left.mean - left.low);
  return master(
    mix,
    [left.mean, right.mean],
    Math.max(peak, right.high - right.mean, right.mean - right.low),
  );
}

/**
 * Adds the drum bar, repeated, and the ducked synth into one channel of the loop; returns the
 * channel's mean, lowest and highest sample. One flat loop: V8 optimizes it whole.
 */
function mixDown(out: Float32Array, drums: Float32Array, synth: Float32Array, pump: Float32Array) {
  let sum = 0, low = 0, high = 0;
  for (let i = 0, inBar = 0, inBeat = 0; i < out.length; i++) {
    const x = out[i] + drums[inBar] + pump[inBeat] * synth[i];
    out[i] = x;
    sum += x;
    if (x < low) low = x;
    if (x > high) high = x;
    if (++inBeat === BEAT_FRAMES) inBeat = 0;
    if (++inBar === BAR) inBar = 0;
  }
  return { mean: sum / out.length, low, high };
}

/** One bar of drums: kick on every beat, clap on 2 and 4, closed hats, open hat off-beat. */
function drumBar(noise: Noise): Stereo {
  const bar = stereo(BAR);
  const kickVoice = kick(noise);
  const clapVoice = clap(noise);
  const closedHat = cymbal(noise, 7_500, 0.02, 0.09);
  const openHat = cymbal(noise, 6_500, 0.09, 0.35);
  for (let beat = 0; beat < 4; beat++) {
    const at = beat * BEAT_FRAMES;
    for (const channel of bar) addWrapped(channel, kickVoice, at, 1);
    if (beat % 2 === 1) place(bar, clapVoice, at, 1.2, 1.2);
    place(bar, closedHat, at, 0.12, 0.16);
    place(bar, closedHat, at + STEP, 0.22, 0.28);
    place(bar, openHat, at + 2 * STEP, 0.32, 0.24);
    place(bar, closedHat, at + 3 * STEP, 0.18, 0.24);
  }
  return bar;
}

/** Bass and pad over the loop, to be ducked by the kick. */
function bassAndPad(noise: Noise): Stereo {
  const phrase = stereo(LOOP_FRAMES);
  const basses = new Map<number, Float32Array>();
  CHORDS.forEach((notes, chord) => {
    const at = chord * 2 * BAR;
    const [left, right] = padChord(notes, 2 * BAR, Math.round(0.4 * SAMPLE_RATE), noise);
    addDoubled(phrase[0], left, at, 0.09);
    addDoubled(phrase[0], right, at, 0.037); // a little of each side in the other
    addDoubled(phrase[1], right, at, 0.09);
    addDoubled(phrase[1], left, at, 0.037);
    BASS_BARS.forEach((steps, bar) => {
      for (const [step, semitones] of steps) {
        const voice = once(basses, BASS_ROOTS[chord] + semitones, (n) => bassNote(n, 1.5 * STEP));
        for (const channel of phrase) {
          addWrapped(channel, voice, at + bar * BAR + step * STEP, 0.6);
        }
      }
    });
  });
  return phrase;
}

/** The hook, and a crash at the top of the loop. */
function hookAndCrash(mix: Stereo, noise: Noise) {
  place(mix, cymbal(noise, 4_500, 0.5, 1.8), 0, 0.36, 0.33);
  const plucks = new Map<number, Float32Array>();
  HOOK.forEach((notes, chord) => {
    for (const [eighth, note] of notes) {
      const voice = once(plucks, note, pluck);
      const at = chord * 2 * BAR + eighth * 2 * STEP;
      for (const channel of mix) addWrapped(channel, voice, at, 0.5);
      ECHOES.forEach(([side, gain], n) => {
        addWrapped(mix[side], voice, at + (n + 1) * ECHO_FRAMES, 0.5 * gain);
      });
    }
  });
}

/** Each note's voice is rendered once, however often it plays. */
function once(
  voices: Map<number, Float32Array>,
  note: number,
  render: (note: number) => Float32Array,
) {
  let voice = voices.get(note);
  if (!voice) voices.set(note, voice = render(note));
  return voice;
}

function place(bus: Stereo, voice: Stereo | Float32Array, at: number, left: number, right: number) {
  const [l, r] = voice instanceof Float32Array ? [voice, voice] : voice;
  addWrapped(bus[0], l, at, left);
  addWrapped(bus[1], r, at, right);
}

/**
 * The pump: gain on the bass and pad that dips for each kick and recovers within the beat.
 * It is 1 at both ends of the beat, so it never steps.
 */
function sidechain(): Float32Array {
  const gain = new Float32Array(BEAT_FRAMES).fill(1);
  const attack = Math.round(0.004 * SAMPLE_RATE), recover = Math.round(0.3 * SAMPLE_RATE);
  for (let i = 0; i < attack + recover; i++) {
    const duck = i < attack ? i / attack : 0.5 + 0.5 * Math.cos((Math.PI * (i - attack)) / recover);
    gain[i] = 1 - 0.6 * duck;
  }
  return gain;
}

/** Removes DC (`means`), soft-clips the top of the range, scales `peak` to `PEAK`, quantizes. */
function master([left, right]: Stereo, [leftMean, rightMean]: number[], peak: number): Int16Array {
  const scale = (PEAK * 32_767) / softClip(1);
  const out = new Int16Array(LOOP_FRAMES * CHANNELS);
  for (let i = 0; i < LOOP_FRAMES; i++) {
    out[2 * i] = round(scale * softClip((left[i] - leftMean) / peak));
    out[2 * i + 1] = round(scale * softClip((right[i] - rightMean) / peak));
  }
  return out;
}

/** Rounds a sample to the nearest integer (halves up): twice as fast as Math.round. */
function round(x: number): number {
  return ((x + 32_768.5) | 0) - 32_768;
}

/** Linear up to `KNEE` of the peak, then bends smoothly (u / (1 + u)): the peak ends at 0.8. */
const KNEE = 0.6;
function softClip(x: number): number {
  const size = Math.abs(x);
  if (size <= KNEE) return x;
  const over = (size - KNEE) / (1 - KNEE);
  const y = KNEE + ((1 - KNEE) * over) / (1 + over);
  return x < 0 ? -y : y;
}
