/**
 * The player page and its assets, from one folder. Query strings are ignored; a path that
 * is not a plain name inside the folder (traversal in any encoding) is simply not found.
 */
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json",
  webmanifest: "application/manifest+json",
};

const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * The page needs only its own origin: scripts, styles and the WebSocket come from here, the
 * QR code is drawn as DOM SVG, and sendspin-js plays a silent data: WAV to unlock audio on
 * phones. Nothing may frame it, and it tells no one where a guest came from.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": [
    "default-src 'self'",
    "media-src 'self' data: blob:",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

export async function serveAsset(dir: URL, request: Request): Promise<Response> {
  const name = assetName(new URL(request.url).pathname);
  if (!name) return notFound();
  const type = TYPES[name.split(".").pop() ?? ""];
  if (!type) return notFound();
  let body: Uint8Array;
  try {
    body = await Deno.readFile(new URL(name, dir));
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory ||
      error instanceof Deno.errors.NotADirectory
    ) {
      return notFound();
    }
    throw error;
  }
  const headers = {
    ...SECURITY_HEADERS,
    "Content-Type": type,
    "Content-Length": String(body.byteLength),
    "Cache-Control": "no-cache",
  };
  return new Response(request.method === "HEAD" ? null : body as BodyInit, { headers });
}

/** "/" → index.html; "/a/b.js" → "a/b.js"; anything odd → undefined. */
export function assetName(pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const segments = decoded.split("/").filter((s) => s !== "");
  if (segments.length === 0) return "index.html";
  return segments.every((s) => SAFE_SEGMENT.test(s)) ? segments.join("/") : undefined;
}

function notFound(): Response {
  return new Response("Not found", {
    status: 404,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" },
  });
}
