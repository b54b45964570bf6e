/**
 * Who may play: with `--guests ask` an unapproved encrypted client is held, connected, with
 * nothing active, until the operator approves it in the console; the approval lasts across a
 * restart and can be revoked. With `--legacy off` a legacy client is refused with its reason.
 */
import assert from "node:assert/strict";
import { EncryptedClient } from "../support/encrypted/client.ts";
import { startParty } from "../support/party_process.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { until } from "../support/until.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "--guests ask: a client waits with nothing active, plays once approved, and stays approved",
  opts,
  async () => {
    const home = Deno.makeTempDirSync();
    const staticKey = crypto.getRandomValues(new Uint8Array(32));
    const party = await startParty(["--demo", "--guests", "ask"], { home, stdin: "piped" });
    let client: EncryptedClient | undefined;
    try {
      assert.match(party.output(), /waits for your approval/);
      client = await EncryptedClient.connect(party.url, { name: "Kitchen", staticKey });
      await until(
        "the console announces it",
        () => /\[1\] "Kitchen" \(id .{8}, not paired, not approved\)/.test(party.log()),
        {
          seen: () => party.log(),
        },
      );
      assert.deepEqual(client.activations, [{ activities: [], active_roles: [] }]);
      assert.ok(client.messagesOf("group/update").length > 0, "it hears the group's state");
      const held = client.chunks.length;
      await party.type("a 1");
      await client.waitFor(
        "playback",
        () => client!.activations.length === 2 && client!.chunks.length > 10,
      );
      assert.equal(held, 0, "no audio while held");
      assert.deepEqual(client.activations[1], {
        activities: ["playback"],
        active_roles: ["player@v1", "controller@v1", "metadata@v1"],
      });
      assert.match(party.log(), /approved "Kitchen"/);
      assert.match(party.log(), /Client joined: Kitchen \[approved\]/);
      assert.deepEqual(client.faults, [], client.describe());
    } finally {
      await client?.close();
      assert.equal(await party.stop(), 0, party.log());
    }
    const file = `${home}/.config/sendspin/approved-clients.json`;
    assert.equal(Deno.statSync(file).mode! & 0o777, 0o600, "approvals are owner-only");
    // After a restart the same client (the same key) plays at once; revoked, it waits again.
    const again = await startParty(["--demo", "--guests", "ask"], { home, stdin: "piped" });
    let back: EncryptedClient | undefined;
    try {
      back = await EncryptedClient.connect(again.url, { name: "Kitchen", staticKey });
      await back.waitFor("playback at once", () => back!.chunks.length > 10);
      await again.type(`r ${back.clientId.slice(0, 8)}`);
      await back.waitFor(
        "held again",
        () => back!.activations.at(-1)?.activities?.toString() === "",
      );
      assert.ok(back.messagesOf("stream/end").length > 0, "its stream ended first");
    } finally {
      await back?.close();
      assert.equal(await again.stop(), 0, again.log());
    }
  },
);

Deno.test(
  "--legacy off refuses a legacy client with its reason; encrypted ones play",
  opts,
  async () => {
    const party = await startParty(["--demo", "--legacy", "off"]);
    try {
      assert.match(party.output(), /Legacy clients .* are refused \(--legacy off\)/);
      const legacy = await RawClient.connect(party.url, { formats: [format("pcm")] });
      await until("the legacy client is closed", () => legacy.closed !== undefined);
      assert.equal(legacy.closed!.code, 1008);
      assert.match(legacy.closed!.reason, /speaks only encrypted Sendspin \(--legacy off\)/);
      const encrypted = await EncryptedClient.connect(party.url);
      await encrypted.waitFor("audio", () => encrypted.chunks.length > 5);
      await encrypted.close();
    } finally {
      assert.equal(await party.stop(), 0, party.log());
    }
  },
);
