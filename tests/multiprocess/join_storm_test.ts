/**
 * A join storm on real processes: 300 listeners joining at 500 a second on `--workers 2`
 * (after a DJ's announcement, a room full of phones scans the QR code at once). A worker busy
 * with joins is not hung: nobody is closed and no worker is replaced. The storm hits a party in full swing (one guest already
 * hears it), as an announcement does. That guest hears the storm through without a gap; how
 * many chunks the joiners themselves lose as they start (a few in some runs on a busy 2-core
 * machine) is for the benchmark, which reports late and lost chunks. This checks behaviour,
 * not speed.
 */
import assert from "node:assert/strict";
import { startParty } from "../support/party_process.ts";
import { RawClient } from "../support/raw_client.ts";
import { until } from "../support/until.ts";

const LOAD_GENERATOR = new URL("../bench/load_generator.ts", import.meta.url).pathname;

Deno.test(
  "300 listeners joining at 500 a second: nobody closed, no worker replaced, the playing guest hears no gap",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const party = await startParty(["--demo", "--workers", "2", "--max-clients", "2000"]);
    try {
      let workers: number[] = [];
      await until("two workers", async () => (workers = await party.children()).length === 2);
      const first = await RawClient.connect(`http://127.0.0.1:${party.port}/`, {
        formats: [{ codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16 }],
      });
      await until("the party plays", () => first.chunks.length >= 10);
      const generator = new Deno.Command(Deno.execPath(), {
        args: [
          ...["run", "--allow-net=127.0.0.1", LOAD_GENERATOR],
          ...["--url", `ws://127.0.0.1:${party.port}/sendspin`, "--listeners", "300"],
          ...["--join-rate", "500", "--codec", "opus", "--settle", "2", "--seconds", "3"],
        ],
        stdout: "piped",
        stderr: "piped",
      });
      const { code, stdout, stderr } = await generator.output();
      const lines = new TextDecoder().decode(stdout).trim().split("\n");
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const result = JSON.parse(lines.at(-1)!);
      assert.equal(result.event, "result");
      assert.deepEqual(result.closedEarly, {}, "nobody was closed");
      assert.equal(result.withAudio, 300, "everyone heard audio");
      assert.deepEqual(await party.children(), workers, "the same two worker processes");
      assert.doesNotMatch(party.log(), /worker \d stopped/, "no worker was replaced");
      assert.equal(first.closed, undefined, "the first guest is still there");
      const gaps = first.chunks.filter((c, i) =>
        i > 0 && c.playAtUs - first.chunks[i - 1].playAtUs !== 60_000
      );
      assert.equal(gaps.length, 0, "the first guest heard the storm through without a gap");
      first.socket.close();
    } finally {
      assert.equal(await party.stop(), 0);
    }
  },
);
