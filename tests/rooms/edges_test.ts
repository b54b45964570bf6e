/**
 * One party over two machines' worth of processes: `nats-server`, an origin
 * (`serve --demo --edges`) and an edge (`edge nats://...`), each as a user starts it, with
 * the edge's link to NATS delayed 2 ms ± 1 ms each way (netem's profile, made in user space:
 * tests/support/delay_relay.ts). A sendspin-js listener on each room.
 */
import assert from "node:assert/strict";
import { TestClient } from "../support/sendspin_client.ts";
import { startDelayRelay } from "../support/delay_relay.ts";
import { until, untilValue } from "../support/until.ts";
import { RawClient } from "../support/raw_client.ts";
import {
  clockOffsetUs,
  needsNats,
  startEdge,
  startNatsServer,
  startParty,
  status,
} from "./rooms_support.ts";

Deno.test({
  name:
    "an edge over a delayed link: its listener gets the origin's bytes at every timestamp, its clock within 0.5 ms, status counts both rooms",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    const relay = startDelayRelay({ host: nats.host, port: nats.port }, {
      delayMs: 2,
      jitterMs: 1,
    });
    const origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url]);
    // Two workers: each calibrates to the edge's estimate over its pipe, as on the origin.
    const edge = await startEdge(relay.url(), ["--workers", "2"]);
    const clients: TestClient[] = [];
    try {
      clients.push(await TestClient.connect(origin.url, { name: "origin listener" }));
      clients.push(await TestClient.connect(edge.url, { name: "edge listener" }));
      await until("60 chunks each", () => clients.every((c) => c.chunks.length >= 60), {
        ms: 20_000,
        seen: () => clients.map((c) => c.describe()).join(" / "),
      });
      const atOrigin = new Map(clients[0].chunks.map((c) => [c.playAtUs, c.payload]));
      let shared = 0;
      for (const chunk of clients[1].chunks) {
        const there = atOrigin.get(chunk.playAtUs);
        if (!there) continue;
        assert.deepEqual(chunk.payload, there, `the bytes at ${chunk.playAtUs}`);
        shared++;
      }
      assert.ok(shared >= 40, `${shared} timestamps heard in both rooms`);

      // Both processes run on this machine's one clock: the test knows the truth.
      const atOriginClock = await clockOffsetUs(origin.url);
      const atEdgeClock = await clockOffsetUs(edge.url);
      const skewUs = Math.abs(atEdgeClock.offsetUs - atOriginClock.offsetUs);
      const resolutionUs = (atOriginClock.rttUs + atEdgeClock.rttUs) / 2;
      console.log(
        `edge clock error: ${skewUs.toFixed(0)} µs (probe round trips ${
          atOriginClock.rttUs.toFixed(0)
        }/${atEdgeClock.rttUs.toFixed(0)} µs), ${shared} shared timestamps`,
      );
      assert.ok(
        skewUs <= 500,
        `the edge's clock is ${skewUs.toFixed(0)} µs off (±${resolutionUs})`,
      );

      // The clock probes above were listeners too, for a moment: wait until they are gone.
      type Rooms = { role: string; clients: number; clock_error_us?: number }[];
      const counts = (rooms: unknown) =>
        JSON.stringify((rooms as Rooms | undefined)?.map((r) => [r.role, r.clients]));
      const seen = await untilValue(
        "each room counts its one listener",
        () => status(edge.url),
        (here) => here.total_clients === 2 && counts(here.rooms) === '[["edge",1],["origin",1]]',
      );
      const rooms = seen.rooms as Rooms;
      assert.equal(typeof rooms[0].clock_error_us, "number", "the edge shows its clock error");
      await untilValue(
        "the origin counts both",
        () => status(origin.url),
        (there) => there.total_clients === 2,
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await edge.stop();
      await origin.stop();
      await relay.close();
      await nats.stop();
    }
  },
});

Deno.test({
  name: "an edge started mid-party plays within 0.5 s of its first listener's hello",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    const origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url]);
    const early = await TestClient.connect(origin.url, { name: "early guest" });
    let edge;
    let late: RawClient | undefined;
    try {
      await early.waitFor("the party plays", () => early.chunks.length >= 20);
      edge = await startEdge(nats.url);
      late = await RawClient.connect(edge.url, {
        formats: [{ codec: "pcm", channels: 2, sample_rate: 48000, bit_depth: 16 }],
      });
      const listener = late;
      await listener.waitFor("the first chunk", () => listener.chunks.length > 0, 5_000);
      const firstArrivedMs = (listener.chunks[0].arrivedUs - listener.helloSentUs) / 1000;
      const { offsetUs } = await clockOffsetUs(edge.url);
      const firstPlaysMs = (listener.chunks[0].playAtUs - offsetUs - listener.helloSentUs) / 1000;
      console.log(
        `late edge listener: first chunk ${firstArrivedMs.toFixed(0)} ms after hello, plays ${
          firstPlaysMs.toFixed(0)
        } ms after it`,
      );
      assert.ok(firstArrivedMs < 500, `first chunk ${firstArrivedMs.toFixed(0)} ms after hello`);
      assert.ok(firstPlaysMs < 500, `first chunk plays ${firstPlaysMs.toFixed(0)} ms after hello`);
    } finally {
      await late?.close();
      await early.close();
      await edge?.stop();
      await origin.stop();
      await nats.stop();
    }
  },
});
