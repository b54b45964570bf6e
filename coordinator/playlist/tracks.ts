/**
 * SOURCE as a list of tracks: a folder (audio files in name order, recursively), an M3U/M3U8
 * (local paths relative to it, absolute paths, URLs, #EXTINF titles), a PLS, or one file,
 * URL, device or the demo. Entries that cannot be played are named in one line and left out.
 */
import { dirname, extname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SourceSpec } from "../config.ts";
import { SourceError } from "../sources/source_error.ts";
import type { TrackSpec } from "../sources/source.ts";

/** One entry: what to decode, and a title the playlist gave it (#EXTINF, PLS TitleN). */
export interface Track {
  spec: TrackSpec;
  /** For the log. */
  label: string;
  listedTitle?: string;
}

/** Audio file name endings a folder is searched for (what ffmpeg and the built-ins open). */
export const AUDIO_EXTENSIONS = [
  ".mp3",
  ".flac",
  ".wav",
  ".ogg",
  ".oga",
  ".opus",
  ".m4a",
  ".aac",
  ".aif",
  ".aiff",
  ".wma",
  ".mka",
  ".ape",
  ".wv",
];
export const PLAYLIST_EXTENSIONS = [".m3u", ".m3u8", ".pls"];
const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export async function resolveTracks(
  spec: SourceSpec,
  warn: (line: string) => void,
): Promise<Track[]> {
  switch (spec.kind) {
    case "folder": {
      const tracks = (await audioFiles(spec.path)).map(fileTrack);
      if (tracks.length === 0) {
        throw new SourceError(
          `the folder ${spec.path} has no audio files (${
            AUDIO_EXTENSIONS.join(" ")
          }): give a folder with music`,
        );
      }
      return tracks;
    }
    case "playlist": {
      const tracks = await readPlaylist(resolve(spec.path), warn, new Set());
      if (tracks.length === 0) {
        throw new SourceError(`the playlist ${spec.path} lists nothing that can be played`);
      }
      return tracks;
    }
    case "file":
      return [fileTrack(spec.path)];
    case "url":
      return [{ spec, label: spec.url }];
    case "device":
      return [{ spec, label: `${spec.format} input ${spec.input}` }];
    case "demo":
      return [{ spec, label: "the built-in demo" }];
  }
}

function fileTrack(path: string): Track {
  return { spec: { kind: "file", path }, label: path };
}

async function audioFiles(folder: string): Promise<string[]> {
  const entries: { name: string; path: string; isDirectory: boolean }[] = [];
  for await (const entry of Deno.readDir(folder)) {
    entries.push({ ...entry, path: join(folder, entry.name) });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory) files.push(...await audioFiles(entry.path));
    else if (AUDIO_EXTENSIONS.includes(extname(entry.name).toLowerCase())) files.push(entry.path);
  }
  return files;
}

/** Reads one playlist; nested playlists are followed, one that is already open is not. */
async function readPlaylist(
  path: string,
  warn: (line: string) => void,
  open: Set<string>,
): Promise<Track[]> {
  open.add(path);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new SourceError(`cannot read the playlist ${path}: ${(error as Error).message}`);
  }
  const entries = extname(path).toLowerCase() === ".pls" ? parsePls(text) : parseM3u(text);
  const tracks: Track[] = [];
  for (const { location, title } of entries) {
    if (HAS_SCHEME.test(location) && !location.toLowerCase().startsWith("file:")) {
      tracks.push({ spec: { kind: "url", url: location }, label: location, listedTitle: title });
      continue;
    }
    const local = location.toLowerCase().startsWith("file:")
      ? fileURLToPath(location)
      : isAbsolute(location)
      ? location
      : resolve(dirname(path), location);
    if (open.has(local)) {
      warn(`${path} lists ${location}, which is a playlist already being read: skipped`);
      continue;
    }
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(local);
    } catch {
      warn(`${path} lists ${location}, which does not exist: skipped`);
      continue;
    }
    if (info.isDirectory) tracks.push(...(await audioFiles(local)).map(fileTrack));
    else if (PLAYLIST_EXTENSIONS.includes(extname(local).toLowerCase())) {
      tracks.push(...await readPlaylist(local, warn, open));
    } else tracks.push({ ...fileTrack(local), listedTitle: title });
  }
  open.delete(path);
  return tracks;
}

interface Entry {
  location: string;
  title?: string;
}

/** M3U: one location a line; `#EXTINF:seconds,Artist - Title` names the next one. */
export function parseM3u(text: string): Entry[] {
  const entries: Entry[] = [];
  let title: string | undefined;
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const info = /^#EXTINF:[^,]*,(.*)$/i.exec(line);
      if (info) title = info[1].trim() || undefined;
      continue;
    }
    entries.push({ location: line, title });
    title = undefined;
  }
  return entries;
}

/** PLS: `FileN=location` and `TitleN=title` in a [playlist] section, in N order. */
export function parsePls(text: string): Entry[] {
  const files = new Map<number, string>();
  const titles = new Map<number, string>();
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(File|Title)(\d+)\s*=\s*(.*?)\s*$/i.exec(raw);
    if (!match) continue;
    (match[1].toLowerCase() === "file" ? files : titles).set(Number(match[2]), match[3]);
  }
  return [...files.keys()].sort((a, b) => a - b).map((n) => ({
    location: files.get(n)!,
    title: titles.get(n) || undefined,
  }));
}
