import assert from "node:assert/strict";
import { truncateUtf8 } from "../../protocol/messages.ts";
import { startServer } from "../support/server.ts";
import { format, RawClient } from "../support/raw_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("close reasons are cut by UTF-8 bytes, not characters", () => {
  const cut = truncateUtf8("€".repeat(100), 120);
  assert.ok(new TextEncoder().encode(cut).byteLength <= 120);
  assert.equal(cut, "€".repeat(40));
  // Never half of a surrogate pair (it would go out as U+FFFD).
  assert.equal(truncateUtf8("a".repeat(7) + "😀😀", 10), "a".repeat(7));
});

Deno.test("a goodbye with a long non-ASCII reason closes that client only", opts, async () => {
  const server = await startServer();
  const calm = await RawClient.connect(server.url, { formats: [format("pcm")] });
  const rude = await RawClient.connect(server.url, { formats: [format("pcm")] });
  try {
    await calm.waitFor("audio", () => calm.chunks.length > 0);
    rude.send("client/goodbye", { reason: "€".repeat(200) });
    await rude.waitFor("closed", () => !!rude.closed);
    const before = calm.chunks.length;
    const status = await (await fetch(new URL("/api/status", server.url))).json();
    assert.equal(status.total_clients, 1, "the server is alive and counts the calm one");
    await calm.waitFor("more audio", () => calm.chunks.length > before, 5_000);
  } finally {
    await calm.close();
    await server.stop();
  }
});

Deno.test("odd HTTP requests get a status, not a crash", opts, async () => {
  const server = await startServer();
  try {
    const nested = await fetch(new URL("/index.html/x.js", server.url));
    assert.equal(nested.status, 404);
    await nested.body?.cancel();
    const halfUpgrade = await fetch(new URL("/sendspin", server.url), {
      headers: { upgrade: "websocket" },
    });
    assert.ok(halfUpgrade.status >= 400 && halfUpgrade.status < 500, `${halfUpgrade.status}`);
    await halfUpgrade.body?.cancel();
  } finally {
    await server.stop();
  }
});
