/**
 * The host's own speaker, as the README tells it: paired once (`--pair` with its token, the
 * first time the server dials it), then dialled with `--client` alone, it plays at once under
 * its long-term PSK. Until then a dialled speaker that turned unpaired access off is held.
 */
import assert from "node:assert/strict";
import { freePort } from "../bench/server_process.ts";
import { EncryptedClient } from "../support/encrypted/client.ts";
import type { HeldPsks } from "../support/encrypted/handshake.ts";
import { startParty } from "../support/party_process.ts";
import { until } from "../support/until.ts";
import { opts } from "./support.ts";

Deno.test(
  "a dialled speaker: held unpaired, paired once with --pair, then plays with --client alone",
  opts,
  async () => {
    const port = freePort();
    const staticKey = crypto.getRandomValues(new Uint8Array(32));
    let psks: HeldPsks = { pairing: crypto.getRandomValues(new Uint8Array(32)) };
    const connections: EncryptedClient[] = [];
    const listening = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      EncryptedClient.speakOn(socket, { name: "Garden", staticKey, unpairedAccess: false, psks })
        .then((client) => connections.push(client));
      return response;
    });
    const speaker = `ws://127.0.0.1:${port}/sendspin`;
    const home = Deno.makeTempDirSync();
    const latest = () => connections.at(-1);
    /** A connection after the first `from` plays under the long-term PSK. */
    const plays = (what: string, from: number) =>
      until(
        what,
        () =>
          connections.length > from && latest()!.chunks.length > 10 &&
          latest()!.matchedPsk === "lt",
        { ms: 15_000, seen: () => latest()?.describe() ?? "not dialled yet" },
      );
    try {
      const held = await startParty(["--demo", "--client", speaker], { home });
      try {
        await until("the speaker", () => latest()?.activations.length === 1);
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepEqual(latest()!.activations, [{ activities: [], active_roles: [] }]);
        assert.equal(
          latest()!.chunks.length,
          0,
          "a speaker without unpaired access is not played to",
        );
        assert.deepEqual(latest()!.faults, [], latest()!.describe());
      } finally {
        await latest()?.close();
        assert.equal(await held.stop(), 0, held.log());
      }
      const token = latest()!.pairingToken;
      const before = connections.length;
      const first = await startParty(["--demo", "--client", speaker, "--pair", token], { home });
      try {
        await plays("audio once paired", before);
        assert.match(first.log(), /paired "Garden"/);
        psks = { ...latest()!.psks }; // what the speaker persisted
        assert.deepEqual(latest()!.faults, [], latest()!.describe());
      } finally {
        await latest()?.close();
        assert.equal(await first.stop(), 0, first.log());
      }
      const count = connections.length;
      const after = await startParty(["--demo", "--client", speaker], { home });
      try {
        await plays("audio at once, with --client alone", count);
        assert.equal(latest()!.rehandshakes, 0, "no pairing needed: its first handshake is paired");
        assert.match(after.log(), /Client joined: Garden \[paired\]/);
      } finally {
        await latest()?.close();
        assert.equal(await after.stop(), 0, after.log());
      }
    } finally {
      await listening.shutdown();
    }
  },
);
