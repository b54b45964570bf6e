/**
 * `GET /artwork/<key>`: a cover this worker holds, as the coordinator sent it. The key is a
 * hash of the image, so a URL never changes meaning and browsers may keep it for good; an
 * unknown or malformed key is 404 (a worker started late may not hold old covers).
 */
import { artworkKeyOf } from "../../protocol/artwork_path.ts";
import { SECURITY_HEADERS } from "../static_assets.ts";

/** A year, the most RFC 9111 caches honour; `immutable`: no revalidation either. */
const CACHE_CONTROL = "public, max-age=31536000, immutable";

export function serveArtwork(
  request: Request,
  lookup: ((key: string) => { mime: string; bytes: Uint8Array } | undefined) | undefined,
): Response {
  const key = artworkKeyOf(new URL(request.url).pathname);
  const image = key ? lookup?.(key) : undefined;
  if (!key || !image) {
    return new Response("No such artwork", {
      status: 404,
      headers: {
        ...SECURITY_HEADERS,
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "no-store", // it may arrive with the next track
      },
    });
  }
  const headers = {
    ...SECURITY_HEADERS,
    "Content-Type": image.mime,
    "Content-Length": String(image.bytes.byteLength),
    "Cache-Control": CACHE_CONTROL,
    "ETag": `"${key}"`,
    // Metadata clients may hand artwork_url to other systems (the spec's reason for it).
    "Access-Control-Allow-Origin": "*",
  };
  if (request.headers.get("If-None-Match") === `"${key}"`) {
    return new Response(null, { status: 304, headers: { ...headers, "Content-Length": "0" } });
  }
  return new Response(request.method === "HEAD" ? null : image.bytes as BodyInit, { headers });
}
