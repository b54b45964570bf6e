/**
 * Where covers are served on every worker's HTTP front: `/artwork/<key>`, the key being the
 * file name the coordinator gave the image (16 hex digits of its hash and an extension).
 */
export const ARTWORK_PREFIX = "/artwork/";
const KEY = /^[0-9a-f]{16}\.(jpg|png|bmp)$/;

/** The key in an artwork path, or undefined if it is not one. */
export function artworkKeyOf(path: string | undefined): string | undefined {
  if (!path?.startsWith(ARTWORK_PREFIX)) return undefined;
  const key = path.slice(ARTWORK_PREFIX.length);
  return KEY.test(key) ? key : undefined;
}
