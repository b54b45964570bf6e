/**
 * A track's cover: the picture embedded in the file (ID3v2 APIC, FLAC PICTURE, Vorbis and
 * Opus METADATA_BLOCK_PICTURE: embedded_picture.ts), else a cover.jpg,
 * folder.jpg (or .jpeg, .png; any case) beside it. Only JPEG, PNG and BMP count: what the
 * workers can scale.
 */
import { dirname, join } from "node:path";
import { embeddedPicture } from "./embedded_picture.ts";
import { IMAGE_MIME, sniffImage } from "../../protocol/image.ts";

export interface Artwork {
  bytes: Uint8Array;
  mime: string;
}

/** Names of a cover beside the track, best first (lower case). */
const COVER_FILES = [
  "cover.jpg",
  "cover.jpeg",
  "cover.png",
  "folder.jpg",
  "folder.jpeg",
  "folder.png",
];
/** A cover file larger than this is not a cover (it is read whole). */
const MAX_COVER_FILE_BYTES = 32 * 1024 * 1024;

/** The cover of the track at `path`, or undefined if it has none we can use. */
export async function findArtwork(path: string): Promise<Artwork | undefined> {
  return await embeddedArtwork(path) ?? await artworkBeside(path);
}

/** The front cover embedded in the file (or its first picture). */
export async function embeddedArtwork(path: string): Promise<Artwork | undefined> {
  try {
    const picture = await embeddedPicture(path);
    return picture ? asArtwork(picture) : undefined;
  } catch {
    return undefined; // a file we cannot read may still have a cover beside it
  }
}

/** cover.jpg, folder.jpg... in the track's folder, whatever their case. */
export async function artworkBeside(path: string): Promise<Artwork | undefined> {
  const folder = dirname(path);
  const byName = new Map<string, string>();
  try {
    for await (const entry of Deno.readDir(folder)) {
      const lower = entry.name.toLowerCase();
      if (entry.isFile && COVER_FILES.includes(lower) && !byName.has(lower)) {
        byName.set(lower, entry.name);
      }
    }
  } catch {
    return undefined; // a folder we may not list has no cover we can show
  }
  for (const name of COVER_FILES) {
    const file = byName.get(name);
    if (!file) continue;
    try {
      const full = join(folder, file);
      if ((await Deno.stat(full)).size > MAX_COVER_FILE_BYTES) continue;
      const artwork = asArtwork(await Deno.readFile(full));
      if (artwork) return artwork;
    } catch {
      continue; // gone or unreadable: try the next name
    }
  }
  return undefined;
}

/** The bytes with their type, told by the bytes themselves (tags often name it wrong). */
function asArtwork(bytes: Uint8Array): Artwork | undefined {
  const format = sniffImage(bytes);
  return format ? { bytes, mime: IMAGE_MIME[format] } : undefined;
}
