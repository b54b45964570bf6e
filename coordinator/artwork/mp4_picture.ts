/**
 * The cover of an MP4 audio file (M4A, AAC, ALAC): the `covr` item of its iTunes metadata,
 * `moov/udta/meta/ilst/covr/data`. The `moov` box may come after the audio, so the file's
 * top-level boxes are walked by seeking, and only `moov` is read.
 */

/** A `moov` larger than this is not read (it holds the sample tables too, and the cover). */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
const PATH = ["udta", "meta", "ilst", "covr"];

/** Whether `head` (12 bytes or more) starts an MP4 file. */
export function isMp4(head: Uint8Array): boolean {
  return String.fromCharCode(...head.subarray(4, 8)) === "ftyp";
}

/** The images of the `covr` item of the MP4 file at `path`, first first. */
export async function mp4Pictures(path: string): Promise<Uint8Array[]> {
  using file = await Deno.open(path);
  const fileSize = (await file.stat()).size;
  let offset = 0;
  while (offset + 8 <= fileSize) {
    const header = await readAt(file, offset, 16);
    const box = boxHeader(header, fileSize - offset);
    if (!box) return [];
    if (box.type === "moov") {
      if (box.size - box.headerBytes > MAX_MOOV_BYTES) return [];
      const moov = await readAt(file, offset + box.headerBytes, box.size - box.headerBytes);
      return covers(moov);
    }
    offset += box.size;
  }
  return [];
}

/** The `data` payloads under udta/meta/ilst/covr of a `moov` body. */
function covers(moov: Uint8Array): Uint8Array[] {
  let level = moov;
  for (const type of PATH) {
    const child = children(level).find((c) => c.type === type);
    if (!child) return [];
    // `meta` is a full box: version and flags before its children.
    level = type === "meta" ? child.body.subarray(4) : child.body;
  }
  // Each `data` box: a type indicator (13 JPEG, 14 PNG, 27 BMP) and a locale, then the image.
  return children(level).filter((c) => c.type === "data" && c.body.length > 8).map((c) =>
    c.body.slice(8)
  );
}

function children(bytes: Uint8Array): { type: string; body: Uint8Array }[] {
  const out: { type: string; body: Uint8Array }[] = [];
  for (let offset = 0; offset + 8 <= bytes.length;) {
    const box = boxHeader(bytes.subarray(offset, offset + 16), bytes.length - offset);
    if (!box) break;
    out.push({ type: box.type, body: bytes.subarray(offset + box.headerBytes, offset + box.size) });
    offset += box.size;
  }
  return out;
}

/** A box header: 32-bit size (1: a 64-bit size follows; 0: to the end), then its type. */
function boxHeader(
  header: Uint8Array,
  room: number,
): { type: string; size: number; headerBytes: number } | undefined {
  if (header.length < 8) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  let size = view.getUint32(0);
  let headerBytes = 8;
  if (size === 1) {
    if (header.length < 16) return undefined;
    size = Number(view.getBigUint64(8));
    headerBytes = 16;
  } else if (size === 0) size = room;
  if (size < headerBytes || size > room) return undefined;
  return { type: String.fromCharCode(...header.subarray(4, 8)), size, headerBytes };
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return out.subarray(0, filled);
}
