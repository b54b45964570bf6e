/**
 * The party over two "machines": two network namespaces made by the test, joined by a veth
 * pair, each direction delayed 2 ms ± 1 ms. Namespace a holds nats-server and the origin,
 * namespace b the edge; a listener (the real sendspin-js client, as a process of its own)
 * plays in each. The delay is netem's on the veth where the kernel has sch_netem; where it
 * has not (this project's CI machines), a relay in namespace b between the edge and NATS
 * delays each way by the same profile (tests/support/delay_relay.ts).
 *
 * Both namespaces share one kernel clock, so the listeners' measurements of their servers'
 * clocks against CLOCK_MONOTONIC tell the edge's true error.
 */
import assert from "node:assert/strict";
import { ignoreUnless } from "../support/skip.ts";
import { twoRooms, whyNoNamespaces, whyNoNetem } from "../support/netns.ts";
import { needsNats, startEdge, startNatsServer, startParty } from "./rooms_support.ts";

const ROOT = new URL("../../", import.meta.url);
const LISTENER = new URL("./fixtures/room_listener.ts", import.meta.url).pathname;
const RELAY = new URL("../support/delay_relay.ts", import.meta.url).pathname;
const why = await whyNoNamespaces();
const netem = (await whyNoNetem()) === undefined;
const ignore = needsNats.ignore || ignoreUnless(!why, `the two-namespace rooms test: ${why}`);

interface Heard {
  chunks: [number, string][];
  clock: { offsetUs: number; rttUs: number };
}

/** Runs the listener fixture inside `ns` against `url` until it has `chunks` chunks. */
async function listen(ns: string, url: string, chunks: number): Promise<Heard> {
  const { code, stdout, stderr } = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", LISTENER, url, String(chunks)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `the listener in ${ns}: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** The relay, in namespace `ns`, towards `host:port`; resolves with its port. */
async function relayIn(ns: string, host: string, port: number) {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      ns,
      Deno.execPath(),
      "run",
      "--allow-net",
      RELAY,
      host,
      String(port),
      "2",
      "1",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return { port: Number(value?.trim()), child };
}

Deno.test({
  name:
    "two namespaces, 2 ms ± 1 ms each way: both listeners get the same bytes per timestamp, the edge's clock within 0.5 ms",
  ignore,
  fn: async () => {
    const rooms = await twoRooms(netem ? { delayMs: 2, jitterMs: 1 } : { delayMs: 0, jitterMs: 0 });
    const nats = await startNatsServer({ netns: rooms.a.name, host: rooms.a.address });
    const origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url], {
      netns: rooms.a.name,
    });
    const relay = netem ? undefined : await relayIn(rooms.b.name, nats.host, nats.port);
    const natsForEdge = relay ? `nats://127.0.0.1:${relay.port}` : nats.url;
    const edge = await startEdge(natsForEdge, [], { netns: rooms.b.name });
    try {
      const [here, there] = await Promise.all([
        listen(rooms.a.name, origin.url, 80),
        listen(rooms.b.name, edge.url, 80),
      ]);
      const atOrigin = new Map(here.chunks);
      let shared = 0;
      for (const [playAtUs, digest] of there.chunks) {
        if (!atOrigin.has(playAtUs)) continue;
        assert.equal(digest, atOrigin.get(playAtUs), `the bytes at ${playAtUs}`);
        shared++;
      }
      assert.ok(shared >= 40, `${shared} timestamps heard in both rooms`);
      const errorUs = there.clock.offsetUs - here.clock.offsetUs;
      console.log(
        `edge clock error ${errorUs.toFixed(0)} µs over ${netem ? "netem" : "the relay"} ` +
          `(listeners' probe round trips ${here.clock.rttUs.toFixed(0)}/${
            there.clock.rttUs.toFixed(0)
          } µs); ${shared} shared timestamps`,
      );
      assert.ok(Math.abs(errorUs) <= 500, `the edge's clock is ${errorUs.toFixed(0)} µs off`);
    } finally {
      await edge.stop();
      relay?.child.kill();
      await relay?.child.status;
      await origin.stop();
      await nats.stop();
      await rooms.close();
    }
  },
});
