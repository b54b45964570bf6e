/**
 * `--client ws://...` with a speaker of today: the listening client speaks the encrypted
 * dialect to the server that dialled it (the client still sends client/init first), plays
 * although the party asks for approval (being named is the approval), and a client that
 * plays only for paired servers is held, silent, instead of being sent audio it refuses.
 */
import assert from "node:assert/strict";
import { freePort } from "../bench/server_process.ts";
import { EncryptedClient } from "../support/encrypted/client.ts";
import { startParty } from "../support/party_process.ts";
import { until } from "../support/until.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("a dialled encrypted speaker plays, approved by being named", opts, async () => {
  const port = freePort();
  const speakers: EncryptedClient[] = [];
  const listening = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    EncryptedClient.speakOn(socket, { name: "Living room" }).then((s) => speakers.push(s));
    return response;
  });
  const party = await startParty([
    "--demo",
    "--guests",
    "ask",
    "--client",
    `ws://127.0.0.1:${port}/sendspin`,
  ]);
  try {
    await until("the speaker's audio", () => (speakers[0]?.chunks.length ?? 0) > 20, {
      seen: () => speakers[0]?.describe() ?? "not dialled yet",
    });
    assert.equal(speakers[0].activations[0].activities?.toString(), "playback");
    assert.deepEqual(speakers[0].faults, [], speakers[0].describe());
    assert.match(party.log(), /Client joined: Living room \[dialled\]/);
    assert.doesNotMatch(party.log(), /legacy/);
  } finally {
    await Promise.all(speakers.map((s) => s.close()));
    assert.equal(await party.stop(), 0, party.log());
    await listening.shutdown();
  }
});

Deno.test("a client that plays only for paired servers is held, not sent audio", opts, async () => {
  const party = await startParty(["--demo"]);
  try {
    const client = await EncryptedClient.connect(party.url, {
      name: "Locked",
      unpairedAccess: false,
    });
    await until(
      "the console says why",
      () => /"Locked" .* plays only for a server it is paired with/.test(party.log()),
      {
        seen: () => party.log(),
      },
    );
    assert.deepEqual(client.activations, [{ activities: [], active_roles: [] }]);
    assert.equal(client.closed, undefined, "held, connected");
    assert.equal(client.chunks.length, 0);
    await client.close();
  } finally {
    assert.equal(await party.stop(), 0, party.log());
  }
});
