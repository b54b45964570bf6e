/**
 * The benchmark's own tools, so a number in BENCHMARKS.md can be trusted: the load generator
 * against a real server accounts for every chunk, and the process sampler sees a whole tree.
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { sampleTree } from "./process_tree.ts";
import { percentile } from "./stats.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const GENERATOR = new URL("./load_generator.ts", import.meta.url).pathname;

Deno.test(
  "the load generator measures a real 2-worker server: every chunk on time",
  opts,
  async () => {
    const server = await startServer({ workers: 2 });
    // The party already plays, as in the benchmark's runs: what the generator measures is a
    // running party, not the first 250 ms of a timeline started by its own join burst.
    const first = await RawClient.connect(server.url, { formats: [format("opus")] });
    try {
      await first.waitFor("the party plays", () => first.chunks.length >= 10);
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          ...[
            "run",
            "--allow-net=127.0.0.1",
            GENERATOR,
            "--url",
            `ws://127.0.0.1:${server.port}/sendspin`,
          ],
          // Settled as the benchmark settles: on a busy machine 30 joins can take over a second,
          // and a late joiner's 5 s backlog would land in the window.
          ...["--listeners", "30", "--codec", "opus", "--settle", "3", "--seconds", "2"],
        ],
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const lines = new TextDecoder().decode(stdout).trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.event), ["measuring", "measured", "result"]);
      const result = lines[2];
      assert.equal(result.withAudio, 30);
      assert.deepEqual(result.closedEarly, {});
      assert.equal(result.workersSeen, 2, "listeners on both workers");
      // ~2 s of 60 ms chunks for 30 listeners; a chunk may fall either side of the window edge.
      assert.ok(Math.abs(result.chunks - result.expectedChunks) <= 30, JSON.stringify(result));
      assert.equal(result.late, 0);
      assert.equal(result.lost, 0);
      assert.ok(result.leadMs.p1 > 1_000, `lead p1 ${result.leadMs.p1} ms`);
      assert.ok(result.firstChunkMs.p99 < 2_000, `first chunk p99 ${result.firstChunkMs.p99} ms`);
      // Offsets here come from the bursts at join, in the middle of 30 joins at once, so they
      // carry milliseconds of client-side delay; the benchmark measures skew after 3 s of settling
      // and tests/multiprocess holds workers to 100 µs.
      assert.ok(Number.isFinite(result.clockSkewUs), `clock skew ${result.clockSkewUs}`);
      assert.ok(Math.abs(result.clockSkewUs) < 20_000, `clock skew ${result.clockSkewUs} µs`);
    } finally {
      await first.close();
      await server.stop();
    }
  },
);

Deno.test("the process sampler counts a child's own children", async () => {
  // sh starts sleep as its child: the tree rooted at sh must include it.
  const child = new Deno.Command("sh", { args: ["-c", "sleep 5 & sleep 5; wait"] }).spawn();
  try {
    await new Promise((r) => setTimeout(r, 200));
    const sample = sampleTree([child.pid]);
    assert.equal(sample.pids[0], child.pid);
    assert.ok(sample.pids.length >= 3, `sh and its two sleeps (got ${sample.pids})`);
    assert.ok(sample.rssBytes > 0);
    assert.equal(sample.rssByPid.length, sample.pids.length);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("percentiles are nearest-rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  assert.equal(percentile(values, 1), 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.ok(Number.isNaN(percentile([], 50)));
});
