/**
 * A join storm on real processes: 300 listeners joining at 500 a second on `--workers 2`
 * (after a DJ's announcement, a room full of phones scans the QR code at once). A worker busy
 * with joins is not hung: nobody is closed, no worker is replaced, and every listener's
 * timestamps run on without a gap. This checks behaviour, not speed.
 */
import assert from "node:assert/strict";
import { startParty } from "../support/party_process.ts";
import { until } from "../support/until.ts";

const LOAD_GENERATOR = new URL("../bench/load_generator.ts", import.meta.url).pathname;

Deno.test(
  "300 listeners joining at 500 a second: nobody closed, no worker replaced, no gap",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const party = await startParty(["--demo", "--workers", "2", "--max-clients", "2000"]);
    try {
      let workers: number[] = [];
      await until("two workers", async () => (workers = await party.children()).length === 2);
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
      assert.equal(result.lost, 0, "no listener's timestamps skipped a chunk");
      assert.deepEqual(await party.children(), workers, "the same two worker processes");
      assert.doesNotMatch(party.log(), /worker \d stopped/, "no worker was replaced");
    } finally {
      assert.equal(await party.stop(), 0);
    }
  },
);
