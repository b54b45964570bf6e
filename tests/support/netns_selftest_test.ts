/**
 * The two rooms (support/netns.ts) are what the tests built on them assume: a reaches b over
 * TCP, and a round trip takes netem's delay twice (once each way), not loopback's ~0 ms.
 * Ignored, with the reason, without root, iproute2 or the kernel's netem.
 */
import assert from "node:assert/strict";
import { twoRooms, whyNoNetem } from "./netns.ts";
import { ignoreUnless } from "./skip.ts";
import { until } from "./until.ts";

const whyNot = await whyNoNetem();
const ignore = ignoreUnless(whyNot === undefined, `the netns self-test: ${whyNot}`);

/** Round trips a → b of this many one-byte messages: enough for an average over the jitter. */
const ROUND_TRIPS = 20;

/** Echoes what it reads; prints its port once listening. */
const ECHO = `
const listener = Deno.listen({ hostname: Deno.args[0], port: 0 });
console.log(listener.addr.port);
for await (const conn of listener) {
  conn.setNoDelay(true);
  (async () => {
    const buffer = new Uint8Array(64);
    for (let n; (n = await conn.read(buffer)) !== null;) await conn.write(buffer.subarray(0, n));
    conn.close();
  })();
}`;

/** Times round trips to the echo server; prints them, in ms, as JSON. */
const PING = `
const conn = await Deno.connect({ hostname: Deno.args[0], port: Number(Deno.args[1]) });
conn.setNoDelay(true);
const buffer = new Uint8Array(1);
const rtts = [];
for (let i = 0; i < Number(Deno.args[2]); i++) {
  const start = performance.now();
  await conn.write(new Uint8Array([i]));
  if (await conn.read(buffer) === null) throw new Error("echo closed");
  rtts.push(performance.now() - start);
}
conn.close();
console.log(JSON.stringify(rtts));`;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const average = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
async function hasPing(): Promise<boolean> {
  try {
    return (await new Deno.Command("ping", { args: ["-V"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}
const noPing = ignore ||
  ignoreUnless(await hasPing(), "the ping step: ping is not installed (iputils-ping)");

Deno.test({
  name: "two rooms: TCP from a to b, each way delayed by netem",
  ignore,
  fn: async (t) => {
    const rooms = await twoRooms(); // 2 ms ± 1 ms each way
    const echo = rooms.command(rooms.b.name, Deno.execPath(), ["eval", ECHO, rooms.b.address], {
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let out = "";
    let err = "";
    const pumps = [
      echo.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (chunk) => void (out += chunk) }),
      ),
      echo.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (chunk) => void (err += chunk) }),
      ),
    ];
    try {
      await until("the echo server in b to listen", () => out.includes("\n"), {
        seen: () => out + err,
      });
      const port = out.trim();

      await t.step("a TCP round trip a → b → a takes about 4 ms", async () => {
        const client = await rooms.command(
          rooms.a.name,
          Deno.execPath(),
          ["eval", PING, rooms.b.address, port, String(ROUND_TRIPS)],
          { stdin: "null", stdout: "piped", stderr: "piped" },
        ).output();
        assert.ok(client.success, text(client.stderr));
        const rtts: number[] = JSON.parse(text(client.stdout));
        assert.equal(rtts.length, ROUND_TRIPS);
        const mean = average(rtts.slice(1)); // the first one pays for the handshake's ACK, too
        assert.ok(mean > 2 && mean < 8, `average ${mean.toFixed(2)} ms of ${rtts.join(", ")}`);
      });

      await t.step({
        name: "ping a → b: average RTT between 2 and 8 ms",
        ignore: noPing,
        fn: async () => {
          const ping = await rooms.command(rooms.a.name, "ping", [
            ...["-c", "5", "-i", "0.2", "-W", "2", rooms.b.address],
          ], { stdout: "piped", stderr: "piped" }).output();
          const said = text(ping.stdout);
          assert.ok(ping.success, said + text(ping.stderr));
          const match = said.match(/= [\d.]+\/([\d.]+)\/[\d.]+/);
          assert.ok(match, said);
          const mean = Number(match[1]);
          assert.ok(mean > 2 && mean < 8, said);
        },
      });
    } finally {
      echo.kill("SIGKILL");
      await Promise.allSettled([echo.status, ...pumps]);
      await rooms.close();
      await rooms.close(); // idempotent
    }
    const left = text((await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout);
    assert.ok(!left.includes(rooms.a.name) && !left.includes(rooms.b.name), left);
  },
});
