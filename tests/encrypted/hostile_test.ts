/**
 * Hostile input on the encrypted dialect, against a real 2-worker server: init failures get
 * their `server/error`; a tampered handshake, a replayed transport message and cleartext after
 * the handshake close silently; 200 connections that open a handshake and stall are closed on
 * its timeout. Through all of it a steady legacy and a steady encrypted listener lose nothing.
 */
import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { EncryptedClient } from "../support/encrypted/client.ts";
import { answerMessage1, clientInitText } from "../support/encrypted/handshake.ts";
import { decodeBase64Url, encodeBase64Url } from "../support/encrypted/ids.ts";
import { utf8 } from "../support/noise/hex.ts";
import { joinBytes } from "../support/noise/responder.ts";
import { startParty } from "../support/party_process.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { until } from "../support/until.ts";

const CHUNK_US = 60_000;
const SUITE = "25519_ChaChaPoly_SHA256";
/** The server's step timeout (worker/dialects/encrypted/handshake.ts): 10 s. */
const HANDSHAKE_STEP_TIMEOUT_MS = 10_000;

interface Raw {
  socket: WebSocket;
  texts: string[];
  binaries: number;
  closed?: { code: number; reason: string; atMs: number };
}

async function raw(url: string): Promise<Raw> {
  const socket = new WebSocket(new URL("/sendspin", url).href.replace(/^http/, "ws"));
  const peer: Raw = { socket, texts: [], binaries: 0 };
  socket.onmessage = (e) => typeof e.data === "string" ? peer.texts.push(e.data) : peer.binaries++;
  socket.onclose = (e) => peer.closed = { code: e.code, reason: e.reason, atMs: performance.now() };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return peer;
}

function assertContiguous(stamps: number[], what: string) {
  for (let i = 1; i < stamps.length; i++) {
    assert.equal(stamps[i] - stamps[i - 1], CHUNK_US, `${what} lost audio at chunk ${i}`);
  }
}

Deno.test(
  "hostile encrypted clients are refused or closed as the spec says; steady listeners lose nothing",
  { sanitizeOps: false, sanitizeResources: false },
  async (t) => {
    const party = await startParty(["--demo", "--workers", "2", "--max-clients", "1000"]);
    const steadyLegacy = await RawClient.connect(party.url, { formats: [format("opus")] });
    const steadyEncrypted = await EncryptedClient.connect(party.url, {
      formats: [format("opus")],
    });
    try {
      await t.step("init failures get server/error with their reason", async () => {
        const key = encodeBase64Url(x25519.getPublicKey(x25519.utils.randomSecretKey()));
        const cases: [string, Record<string, unknown>, string][] = [
          ["no version", { client_id: key, suite: SUITE }, "malformed"],
          ["a bad client_id", { client_id: "short", version: 1, suite: SUITE }, "malformed"],
          ["version 2", { client_id: key, version: 2, suite: "nonsense" }, "unsupported_version"],
          [
            "an unknown suite",
            { client_id: key, version: 1, suite: "25519_Foo" },
            "unsupported_suite",
          ],
        ];
        for (const [what, payload, reason] of cases) {
          const peer = await raw(party.url);
          peer.socket.send(JSON.stringify({ type: "client/init", payload }));
          await until(`the answer to ${what}`, () => peer.closed !== undefined, {
            seen: () => peer.texts,
          });
          assert.deepEqual(peer.texts.map((t) => JSON.parse(t)), [
            { type: "server/error", payload: { reason } },
          ], what);
        }
      });

      await t.step("a tampered message 2 closes silently", async () => {
        const staticKey = x25519.utils.randomSecretKey();
        const peer = await raw(party.url);
        const init = clientInitText(x25519.getPublicKey(staticKey), SUITE);
        peer.socket.send(init);
        await until("server/init and message 1", () => peer.texts.length === 2);
        const [serverInit, handshake] = peer.texts;
        const { server_id: serverId } = JSON.parse(serverInit).payload;
        const { message2 } = answerMessage1(decodeBase64Url(JSON.parse(handshake).payload.data), {
          suite: SUITE,
          prologue: joinBytes(utf8(init), utf8(serverInit)),
          staticKey,
          serverStaticKey: decodeBase64Url(serverId, 32),
          serverId,
          psks: {},
          sentinelFallback: true,
        });
        message2[40] ^= 0x01; // one bit of the ciphertext
        peer.socket.send(JSON.stringify({
          type: "noise/handshake",
          payload: { data: encodeBase64Url(message2) },
        }));
        await until("the close", () => peer.closed !== undefined);
        assert.equal(peer.texts.length, 2, "no word after message 1");
        assert.equal(peer.binaries, 0);
        assert.equal(peer.closed!.reason, "");
      });

      await t.step("a replayed transport message closes silently", async () => {
        const client = await EncryptedClient.connect(party.url, { formats: [format("opus")] });
        await client.waitFor("audio", () => client.chunks.length > 0);
        client.replayLastSent();
        await client.waitFor("the close", () => client.closed !== undefined);
        assert.equal(client.closed!.reason, "");
      });

      await t.step("cleartext after the handshake closes silently", async () => {
        const client = await EncryptedClient.connect(party.url, { formats: [format("opus")] });
        await client.waitFor("audio", () => client.chunks.length > 0);
        client.sendRawText(
          JSON.stringify({ type: "client/time", payload: { client_transmitted: 1 } }),
        );
        await client.waitFor("the close", () => client.closed !== undefined);
        assert.equal(client.closed!.reason, "");
      });

      await t.step("200 handshakes that stall are closed on the timeout, no sooner", async () => {
        const stalled: Raw[] = [];
        const startedMs = performance.now();
        for (let i = 0; i < 200; i++) {
          const peer = await raw(party.url);
          const key = x25519.getPublicKey(x25519.utils.randomSecretKey());
          peer.socket.send(clientInitText(key, SUITE));
          stalled.push(peer);
        }
        await until("every stalled handshake is closed", () => stalled.every((p) => p.closed), {
          ms: HANDSHAKE_STEP_TIMEOUT_MS + 10_000,
          seen: () => `${stalled.filter((p) => p.closed).length} of 200 closed`,
        });
        const earliest = Math.min(...stalled.map((p) => p.closed!.atMs)) - startedMs;
        assert.ok(earliest >= HANDSHAKE_STEP_TIMEOUT_MS - 1_000, `one closed after ${earliest} ms`);
        assert.ok(stalled.every((p) => p.texts.length === 2), "each got server/init and message 1");
      });

      await t.step("the steady listeners lost nothing", () => {
        assertContiguous(steadyLegacy.chunks.map((c) => c.playAtUs), "the legacy listener");
        assertContiguous(steadyEncrypted.chunks.map((c) => c.playAtUs), "the encrypted listener");
        assert.ok(steadyLegacy.chunks.length > 150 && steadyEncrypted.chunks.length > 150);
        assert.equal(steadyLegacy.closed, undefined);
        assert.equal(steadyEncrypted.closed, undefined);
        assert.deepEqual(steadyEncrypted.faults, [], steadyEncrypted.describe());
      });
    } finally {
      await steadyLegacy.close();
      await steadyEncrypted.close();
      assert.equal(await party.stop(), 0, party.log());
    }
  },
);
