/**
 * The server re-handshakes an encrypted listener (new keys, same PSK; a new pairing uses the
 * same path): the client answers under the old keys, the first message under the new keys is
 * `server/activate`, and the audio goes on without a gap.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../../protocol/clock.ts";
import { Logger } from "../../../protocol/log.ts";
import { generateKeyPair } from "../../../protocol/noise/keys.ts";
import { SENTINEL_PSK } from "../../../protocol/noise/psk.ts";
import { CHUNK_BYTES, DEMO_FORMAT } from "../../../protocol/pcm.ts";
import { acceptSendspin } from "../../../worker/dialects/accept.ts";
import type { EncryptedConnection } from "../../../worker/dialects/encrypted/connection.ts";
import { identityFromPrivateKey } from "../../../worker/dialects/encrypted/identity.ts";
import { listen } from "../../../worker/edge/http_front.ts";
import { Group, PACE_INTERVAL_MS } from "../../../worker/group.ts";
import type { Session } from "../../../worker/session.ts";
import { EncryptedClient } from "../../support/encrypted/client.ts";
import { until } from "../../support/until.ts";

Deno.test("a server-initiated re-handshake keeps the stream going under new keys", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const group = new Group({
    serverId: "s",
    name: "Party",
    clock: systemClock,
    log: new Logger("CRITICAL"),
  });
  const sessions: Session[] = [];
  const front = await listen({
    hostname: "127.0.0.1",
    port: 0,
    reusePort: false,
    handler: () => new Response("no"),
    websocketPath: "/sendspin",
    onWebSocket: (socket, already) =>
      void acceptSendspin(socket, already, {
        group,
        identity: identityFromPrivateKey(generateKeyPair().privateKey),
        legacy: true,
        pskFor: () => ({ psk: SENTINEL_PSK, category: "sn" }),
      }, { onSession: (session) => sessions.push(session) }),
    onError: () => {},
  });
  // A timeline: a chunk every 60 ms, played a second later.
  let playAtUs = systemClock.nowUs() + 1_000_000;
  const feed = setInterval(() => {
    group.onChunk({ segment: 1, playAtUs, format: DEMO_FORMAT, pcm: new Uint8Array(CHUNK_BYTES) });
    playAtUs += 60_000;
  }, 60);
  const pace = setInterval(() => group.flush(), PACE_INTERVAL_MS);
  const client = await EncryptedClient.connect(`http://127.0.0.1:${front.port}/`);
  try {
    await client.waitFor("audio", () => client.chunks.length >= 5);
    const connection = sessions[0].connection as EncryptedConnection;
    const before = connection.handshakeHash;
    connection.rehandshake();
    await client.waitFor("the re-handshake", () => client.rehandshakes === 1);
    await client.waitFor(
      "the activation under the new keys",
      () => client.activations.length === 2,
    );
    assert.deepEqual(client.activations[1], client.activations[0]);
    const count = client.chunks.length;
    await client.waitFor("audio under the new keys", () => client.chunks.length >= count + 10);
    const { rttUs } = await client.timeProbes(4); // messages both ways under the new keys
    assert.ok(rttUs < 50_000);
    assert.notDeepEqual(connection.handshakeHash, before, "new keys, a new handshake hash");
    const stamps = client.chunks.map((c) => c.playAtUs);
    for (let i = 1; i < stamps.length; i++) assert.equal(stamps[i] - stamps[i - 1], 60_000);
    assert.deepEqual(client.faults, [], client.describe());
    await until("still connected", () => client.closed === undefined);
  } finally {
    clearInterval(feed);
    clearInterval(pace);
    await client.close();
    await front.close();
  }
});
