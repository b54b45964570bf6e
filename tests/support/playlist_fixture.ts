/**
 * A folder of three short tagged FLAC tracks made by ffmpeg, each with its own signal and
 * its own metadata (the second with an embedded cover), and their PCM as ffmpeg decodes
 * them (the reference for what is heard).
 */
import { ffmpeg, ffmpegPcm } from "../coordinator/decode/helpers.ts";
import { wavBytes } from "./wav.ts";
import { makePicture } from "./images.ts";

export interface FixtureTrack {
  path: string;
  title: string;
  pcm: Int16Array;
}

export interface PlaylistFixture {
  dir: string;
  tracks: FixtureTrack[];
  remove(): Promise<void>;
}

/** 20 chunks of 60 ms: a track joint falls on a chunk edge, so chunk times name tracks. */
export const TRACK_FRAMES = 57_600;

/** Not periodic (noise from a per-track seed), so any 60 ms of it is found in one place only. */
function trackSignal(frames: number, track: number): Int16Array {
  const out = new Int16Array(frames * 2);
  let seed = 1000 + track * 7919;
  for (let i = 0; i < frames; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * 4000;
    const tone = 8000 * Math.sin((2 * Math.PI * (300 + 200 * track) * i) / 48_000);
    out[2 * i] = Math.round(tone + noise);
    out[2 * i + 1] = Math.round(tone / 2 - noise);
  }
  return out;
}

export async function playlistFixture(frames = TRACK_FRAMES): Promise<PlaylistFixture> {
  const dir = await Deno.makeTempDir({ prefix: "sendspin_playlist_" });
  const tracks: FixtureTrack[] = [];
  for (let k = 1; k <= 3; k++) {
    const wav = `${dir}/source-${k}.wav.tmp`;
    await Deno.writeFile(wav, wavBytes(trackSignal(frames, k), 48_000, 2));
    const path = `${dir}/${k}-track.flac`;
    const title = `Song ${k}`;
    // Track 2 carries an embedded cover (a 640 x 480 test card); the others have none.
    const cover = k === 2 ? `${dir}/picture-2.png` : undefined;
    if (cover) await makePicture(cover, 640, 480);
    await ffmpeg([
      ...["-f", "wav", "-i", wav],
      ...(cover ? ["-f", "png_pipe", "-i", cover, "-map", "0", "-map", "1", "-c:v", "copy"] : []),
      ...(cover ? ["-disposition:v", "attached_pic"] : []),
      ...["-metadata", `title=${title}`, "-metadata", `artist=Artist ${k}`],
      ...["-metadata", `album_artist=Band ${k}`, "-metadata", `album=Album ${k}`],
      ...["-metadata", `date=${2000 + k}`, "-metadata", `track=${k}`],
      path,
    ]);
    await Deno.remove(wav);
    if (cover) await Deno.remove(cover);
    tracks.push({ path, title, pcm: await ffmpegPcm(path) });
  }
  return { dir, tracks, remove: () => Deno.remove(dir, { recursive: true }) };
}

/**
 * Which track and sample offset a piece of PCM comes from, by a table of every frame's
 * first samples: cheap enough to call in a polling predicate beside a server in-process.
 */
export function pcmLocator(
  tracks: FixtureTrack[],
): (piece: Int16Array) => { index: number; at: number } | undefined {
  const KEY_SAMPLES = 8;
  const table = new Map<string, { index: number; at: number }>();
  tracks.forEach(({ pcm }, index) => {
    for (let at = 0; at + KEY_SAMPLES <= pcm.length; at += 2) {
      table.set(pcm.subarray(at, at + KEY_SAMPLES).join(","), { index, at });
    }
  });
  return (piece) => {
    const found = table.get(piece.subarray(0, KEY_SAMPLES).join(","));
    if (!found) return undefined;
    const pcm = tracks[found.index].pcm;
    for (let i = 0; i < piece.length; i++) if (pcm[found.at + i] !== piece[i]) return undefined;
    return found;
  };
}

/** Where `piece` starts in `pcm` (in samples), or -1. */
export function findPcm(pcm: Int16Array, piece: Int16Array): number {
  outer: for (let start = 0; start + piece.length <= pcm.length; start += 2) {
    for (let i = 0; i < piece.length; i++) if (pcm[start + i] !== piece[i]) continue outer;
    return start;
  }
  return -1;
}

/** A PCM chunk's payload (16-bit little-endian) as samples. */
export function chunkSamples(payload: Uint8Array): Int16Array {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return Int16Array.from({ length: payload.byteLength >> 1 }, (_, i) => view.getInt16(2 * i, true));
}
