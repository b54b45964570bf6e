/**
 * One party, two dialects: the published sendspin-js 3.2.1 (legacy) and the encrypted test
 * client play from the same server at the same time, and hear the same samples at the same
 * server times.
 */
import assert from "node:assert/strict";
import { EncryptedClient } from "../support/encrypted/client.ts";
import { startParty } from "../support/party_process.ts";
import { TestClient } from "../support/sendspin_client.ts";

Deno.test(
  "sendspin-js (legacy) and an encrypted client hear the same samples at the same server times",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const party = await startParty(["--demo", "--workers", "2"]);
    const legacy = await TestClient.connect(party.url, { name: "legacy phone" });
    const encrypted = await EncryptedClient.connect(party.url, { name: "encrypted speaker" });
    try {
      await legacy.waitFor("decoded audio", () => legacy.decoded.length >= 40);
      await encrypted.waitFor("audio", () => encrypted.chunks.length >= 40);
      const byTime = new Map(encrypted.chunks.map((c) => [c.playAtUs, c.payload]));
      let compared = 0;
      for (const { serverTimeUs, samples } of legacy.decoded) {
        const payload = byTime.get(serverTimeUs);
        if (!payload) continue;
        assert.deepEqual(samples, new Int16Array(payload.slice().buffer), `at ${serverTimeUs} µs`);
        compared++;
      }
      assert.ok(compared >= 20, `${compared} chunks heard by both`);
      assert.deepEqual(encrypted.faults, [], encrypted.describe());
    } finally {
      await legacy.close();
      await encrypted.close();
      assert.equal(await party.stop(), 0, party.log());
    }
  },
);
