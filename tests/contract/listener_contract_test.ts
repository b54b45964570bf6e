/**
 * The contract of a listener's life, the same for one worker and for many: it connects,
 * syncs its clock, hears contiguous audio, is counted, switches format without a gap, and
 * leaves. Each case runs against `sendspin serve --demo` as a real process on port 0, with
 * `--workers 1` and with `--workers 2` (listeners on both workers).
 */
import assert from "node:assert/strict";
import { startParty } from "../support/party_process.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { TestClient } from "../support/sendspin_client.ts";
import { until } from "../support/until.ts";

const CHUNK_US = 60_000; // 2,880 frames at 48 kHz, in every format
const opts = { sanitizeOps: false, sanitizeResources: false };
const serverIdOf = (messages: { type: string; payload: Record<string, unknown> }[]) =>
  messages.find((m) => m.type === "server/hello")?.payload.server_id as string | undefined;

async function totalClients(url: string): Promise<number> {
  const status = await (await fetch(new URL("/api/status", url))).json();
  return status.total_clients;
}

function assertContiguous(stamps: number[], what: string) {
  for (let i = 1; i < stamps.length; i++) {
    assert.equal(stamps[i] - stamps[i - 1], CHUNK_US, `${what}: step at chunk ${i}`);
  }
}

for (const workers of [1, 2]) {
  Deno.test(`a listener's life on --workers ${workers}`, opts, async (t) => {
    const party = await startParty(["--demo", "--workers", String(workers)]);
    const listeners: TestClient[] = [];
    const switching: RawClient[] = [];
    try {
      await t.step("connects: server/hello with the roles it asked for", async () => {
        // On several workers, listeners until every worker has one (the kernel spreads them).
        while (new Set(listeners.map((l) => serverIdOf(l.messages))).size < workers) {
          assert.ok(listeners.length < 30, "the kernel put 30 listeners on one worker");
          const listener = await TestClient.connect(party.url, {
            name: `guest ${listeners.length}`,
          });
          await listener.waitFor("server/hello", () => !!serverIdOf(listener.messages));
          listeners.push(listener);
        }
        for (const listener of listeners) {
          const hello = listener.messagesOf("server/hello")[0].payload;
          assert.deepEqual(hello.active_roles, ["player@v1", "controller@v1", "metadata@v1"]);
        }
      });

      await t.step("syncs: the published client's clock locks on within 5 ms", async () => {
        for (const listener of listeners) {
          await listener.waitFor("clock sync", () => listener.core.timeSyncInfo.synced);
          assert.ok(
            listener.core.timeSyncInfo.error < 5_000,
            `${listener.core.timeSyncInfo.error}`,
          );
        }
      });

      await t.step("hears contiguous audio, every chunk still ahead when it arrives", async () => {
        for (const listener of listeners) {
          await listener.waitFor("30 chunks", () => listener.chunks.length >= 30);
          assertContiguous(listener.chunks.map((c) => c.playAtUs), serverIdOf(listener.messages)!);
          assert.ok(listener.chunks.at(-1)!.playAtUs > listener.serverNowUs(), "ahead of now");
          assert.ok(listener.decoded.length > 0, "the client decoded audio");
        }
      });

      await t.step("is counted in /api/status on every worker", async () => {
        for (let i = 0; i < 2 * workers; i++) {
          assert.equal(await totalClients(party.url), listeners.length);
        }
      });

      await t.step(
        "switches format with stream/request-format, without gap or overlap",
        async () => {
          while (new Set(switching.map((c) => serverIdOf(c.messages))).size < workers) {
            assert.ok(switching.length < 30, "the kernel put 30 listeners on one worker");
            const client = await RawClient.connect(party.url, { formats: [format("pcm")] });
            await client.waitFor("audio", () => client.chunks.length >= 5);
            switching.push(client);
          }
          for (const client of switching) {
            const flacStart = client.next("stream/start");
            client.send("stream/request-format", { player: { codec: "flac" } });
            const { payload, arrivedUs } = await flacStart;
            // What the socket held before the new stream/start is the old format: only what
            // follows it must be FLAC.
            const after = () => client.chunks.filter((c) => c.arrivedUs > arrivedUs);
            await client.waitFor("FLAC audio", () => after().length >= 20);
            assert.equal((payload.player as { codec: string }).codec, "flac");
            assertContiguous(client.chunks.map((c) => c.playAtUs), "across the switch");
            const isFlacFrame = (p: Uint8Array) => p[0] === 0xff && (p[1] & 0xfe) === 0xf8;
            assert.ok(after().every((c) => isFlacFrame(c.payload)), "FLAC frames after it");
          }
        },
      );

      await t.step("leaves: the count goes back to zero, and the log says who left", async () => {
        await Promise.all([...listeners, ...switching].map((c) => c.close()));
        await until("nobody counted", async () => await totalClients(party.url) === 0);
        await until(
          "the log names a leaving guest",
          () => /Client left: guest 0/.test(party.log()),
        );
      });
    } finally {
      await Promise.all([...listeners, ...switching].map((c) => c.close()));
      assert.equal(await party.stop(), 0, party.log());
    }
  });
}
