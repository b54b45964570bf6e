/**
 * A hung worker (SIGSTOP: it neither reads its stdin nor beats) is told from a busy one by
 * its missing heartbeats: it is killed and replaced, the other worker's listeners hear no
 * gap, and the stopped process does not come back.
 */
import assert from "node:assert/strict";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { until } from "../support/until.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const serverId = (c: RawClient) => c.messagesOf("server/hello")[0]?.payload.server_id as string;
const pidOf = (link: unknown) => (link as { pid?: number } | undefined)?.pid;

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test(
  "a worker stopped with SIGSTOP is replaced within 5 s; the other plays on",
  opts,
  async () => {
    const server = await startServer({ workers: 2 });
    const clients: RawClient[] = [];
    try {
      // Listeners on both workers (the kernel spreads connections over the shared port).
      while (new Set(clients.map(serverId)).size < 2 && clients.length < 40) {
        const client = await RawClient.connect(server.url, { formats: [format("pcm")] });
        await until("server/hello", () => !!serverId(client));
        clients.push(client);
      }
      const survivors = clients.filter((c) => serverId(c).endsWith("-w0"));
      assert.ok(survivors.length > 0 && survivors.length < clients.length, "listeners on both");
      await until("audio on every listener", () => clients.every((c) => c.chunks.length > 0));
      const stopped = pidOf(server.pool.slots[1].link)!;
      const stoppedAt = performance.now();
      Deno.kill(stopped, "SIGSTOP");
      await until("a new worker 1 listening", () => {
        const pid = pidOf(server.pool.slots[1].link);
        return pid !== undefined && pid !== stopped && server.pool.slots[1].listened;
      }, 5_000);
      const replacedMs = performance.now() - stoppedAt;
      // The survivors go on playing across the swap: a second more of audio reaches each.
      const counts = survivors.map((c) => c.chunks.length);
      await until(
        "a second more of audio on worker 0",
        () => survivors.every((c, i) => c.chunks.length >= counts[i] + 17),
        { seen: () => survivors.map((c, i) => c.chunks.length - counts[i]) },
      );
      for (const client of survivors) {
        const stamps = client.chunks.map((c) => c.playAtUs);
        for (let i = 1; i < stamps.length; i++) {
          assert.equal(
            stamps[i] - stamps[i - 1],
            60_000,
            `gap at chunk ${i} of ${serverId(client)}`,
          );
        }
      }
      try {
        Deno.kill(stopped, "SIGCONT");
      } catch {
        // gone already: just as good
      }
      await until("the stopped worker is gone", () => !alive(stopped), 2_000);
      const late = await RawClient.connect(server.url, { formats: [format("pcm")] });
      clients.push(late);
      await until("the party plays for a newcomer", () => late.chunks.length > 0, 2_000);
      console.log(`hung worker replaced after ${replacedMs.toFixed(0)} ms`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await server.stop();
    }
  },
);
