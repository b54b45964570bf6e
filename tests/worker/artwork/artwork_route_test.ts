/**
 * `GET /artwork/<key>` on a worker's routes: the image as held, with its type and cache
 * headers; HEAD without a body; a matching If-None-Match is 304; an unknown or malformed key
 * (traversal included) is 404, never another file.
 */
import assert from "node:assert/strict";
import { createRoutes } from "../../../worker/http.ts";

const KEY = "0123456789abcdef.png";
const IMAGE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

const app = createRoutes({
  assetsDir: new URL("file:///nonexistent/"),
  status: () => ({ total: 0, here: 0, perWorker: [], rejected: 0 }),
  artwork: (key) => key === KEY ? { mime: "image/png", bytes: IMAGE } : undefined,
});
const request = (path: string, init?: RequestInit) =>
  app.fetch(new Request(`http://party.local${path}`, init));

Deno.test("a held cover is served with its type, forever-cache headers and an ETag", async () => {
  const response = await request(`/artwork/${KEY}`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  assert.equal(response.headers.get("content-length"), String(IMAGE.length));
  assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(response.headers.get("etag"), `"${KEY}"`);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.deepEqual(new Uint8Array(await response.arrayBuffer()), IMAGE);

  const head = await request(`/artwork/${KEY}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "image/png");
  assert.equal((await head.arrayBuffer()).byteLength, 0);

  const again = await request(`/artwork/${KEY}`, { headers: { "If-None-Match": `"${KEY}"` } });
  assert.equal(again.status, 304);
  await again.body?.cancel();
});

Deno.test("an unknown or malformed artwork key is 404, not cached", async () => {
  for (
    const path of [
      "/artwork/fedcba9876543210.png", // well formed, not held
      "/artwork/0123456789ABCDEF.png",
      "/artwork/0123456789abcdef.gif",
      "/artwork/..%2F..%2Fdeno.json",
      "/artwork/",
    ]
  ) {
    const response = await request(path);
    assert.equal(response.status, 404, path);
    assert.notEqual(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
    await response.body?.cancel();
  }
});
