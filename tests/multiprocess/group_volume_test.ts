/**
 * Group volume across workers, on real processes: a controller on one worker sets the
 * party's volume and mute, and the players on every worker get it; every controller shows
 * the players of all workers together.
 */
import assert from "node:assert/strict";
import { startParty } from "../support/party_process.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { lastController, told } from "../support/controls.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const serverIdOf = (client: RawClient) =>
  client.messagesOf("server/hello")[0]?.payload.server_id as string | undefined;

Deno.test(
  "a controller's group volume and mute reach the players of every worker",
  opts,
  async () => {
    const party = await startParty(["--demo", "--workers", "2"]);
    const clients: RawClient[] = [];
    try {
      while (new Set(clients.map(serverIdOf)).size < 2) {
        assert.ok(clients.length < 30, "the kernel put 30 clients on one worker");
        const client = await RawClient.connect(party.url, {
          formats: [format("pcm")],
          roles: ["player@v1", "controller@v1"],
          name: `guest ${clients.length}`,
        });
        await client.waitFor("server/hello", () => serverIdOf(client) !== undefined);
        clients.push(client);
      }
      const remote = clients[0];
      const elsewhere = clients.find((c) => serverIdOf(c) !== serverIdOf(remote))!;

      remote.send("client/command", { controller: { command: "volume", volume: 30 } });
      for (const client of clients) {
        await client.waitFor("the group's volume", () => told(client, "volume") === 30);
      }
      await elsewhere.waitFor(
        "a controller on the other worker shows it",
        () => lastController(elsewhere)?.volume === 30,
      );

      remote.send("client/command", { controller: { command: "mute", mute: true } });
      for (const client of clients) {
        await client.waitFor("the group's mute", () => told(client, "mute") === true);
      }
      await elsewhere.waitFor("muted everywhere", () => lastController(elsewhere)?.muted === true);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      assert.equal(await party.stop(), 0, party.log());
    }
  },
);
