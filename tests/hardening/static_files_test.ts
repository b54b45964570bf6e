/**
 * The page's files and nothing else: traversal in every encoding finds nothing outside the
 * assets, only GET and HEAD are served, and pages carry security headers. Requests are written
 * by hand on a TCP socket, since fetch() would tidy `..` away before sending.
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** One raw HTTP/1.1 request; returns the status code and the whole body text. */
async function rawRequest(
  port: number,
  requestLine: string,
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
  );
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  conn.close();
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { status: Number(text.split(" ")[1]), text };
}

const TRAVERSALS = [
  "/../deno.json",
  "/../../../../etc/passwd",
  "/..%2fdeno.json",
  "/%2e%2e/deno.json",
  "/%2e%2e%2f%2e%2e%2fdeno.json",
  "/%252e%252e/deno.json",
  "/..%5cdeno.json",
  "/..\\deno.json",
  "/%c0%ae%c0%ae/deno.json",
  "/....//deno.json",
  "//etc/passwd",
  "/%2fetc%2fpasswd",
  "/index.html%00.js",
  "/.git/config",
  "/./../main.ts",
  "http://127.0.0.1/../deno.json",
];

Deno.test("path traversal in any encoding returns no file outside the assets", opts, async () => {
  const server = await startServer();
  const secrets = [
    Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)).slice(0, 40),
    "root:",
  ];
  try {
    for (const path of TRAVERSALS) {
      const { status, text } = await rawRequest(server.port, `GET ${path} HTTP/1.1`);
      assert.ok(status === 400 || status === 404, `${path}: status ${status}`);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${path} leaked a file`);
    }
    const page = await rawRequest(server.port, "GET /index.html HTTP/1.1");
    assert.equal(page.status, 200, "the page itself is still served");
  } finally {
    await server.stop();
  }
});

Deno.test("only GET and HEAD; pages carry security headers", opts, async () => {
  const server = await startServer();
  try {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]) {
      const { status, text } = await rawRequest(server.port, `${method} /index.html HTTP/1.1`);
      assert.ok(status === 405 || status === 400, `${method}: ${status}`);
      assert.ok(!text.includes("<html"), `${method} got the page`);
      if (status === 405) assert.match(text, /^allow: GET, HEAD\r$/im);
    }
    const head = await fetch(new URL("/", server.url), { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const page = await fetch(new URL("/", server.url));
    await page.body?.cancel();
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("referrer-policy"), "no-referrer");
    assert.equal(page.headers.get("x-frame-options"), "DENY");
  } finally {
    await server.stop();
  }
});
