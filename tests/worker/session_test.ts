import assert from "node:assert/strict";
import { Group } from "../../worker/group.ts";
import { Logger } from "../../protocol/log.ts";
import { legacySession } from "../support/legacy_session.ts";

function connect() {
  const clock = { us: 1_000, nowUs: () => clock.us };
  const group = new Group({ serverId: "s", name: "Party", clock, log: new Logger("CRITICAL") });
  return { ...legacySession(group), group, clock };
}

const hello = (formats: unknown[]) =>
  JSON.stringify({
    type: "client/hello",
    payload: {
      client_id: "c1",
      name: "Phone",
      version: 1,
      supported_roles: ["player@v1", "controller@v1", "artwork@v1"],
      "player@v1_support": { supported_formats: formats, buffer_capacity: 1 << 20 },
    },
  });

Deno.test("a player that lists only formats we cannot produce is closed with the reason", () => {
  const { say, closed } = connect();
  say(hello([{ codec: "pcm", sample_rate: 48000, channels: 6, bit_depth: 16 }]));
  assert.equal(closed()?.code, 1008);
  assert.match(closed()!.reason, /no audio format we can produce.*pcm 48000\/16\/6/);
});

Deno.test("server/hello activates the roles we implement, in the client's order", () => {
  const { session, say, sent, group } = connect();
  say(hello([{ codec: "pcm", sample_rate: 44100, channels: 2, bit_depth: 16 }]));
  const serverHello = JSON.parse(sent[0]);
  assert.equal(serverHello.type, "server/hello");
  assert.deepEqual(serverHello.payload.active_roles, ["player@v1", "controller@v1"]);
  assert.equal(session.stream?.format.sample_rate, 44100);
  assert.equal(group.sessions.size, 1);
});

Deno.test("time answers are stamped on receipt and sent at once", () => {
  const { session, say, sent, clock } = connect();
  say(hello([{ codec: "pcm", sample_rate: 48000, channels: 2, bit_depth: 16 }]));
  sent.length = 0;
  clock.us = 777;
  const answerAt = 1_000;
  const now = clock.nowUs;
  let reads = 0;
  clock.nowUs = () => reads++ === 0 ? now() : answerAt; // the first read stamps the receipt
  say(JSON.stringify({ type: "client/time", payload: { client_transmitted: 42 } }));
  assert.deepEqual(JSON.parse(sent[0]), {
    type: "server/time",
    payload: { client_transmitted: 42, server_received: 777, server_transmitted: 1_000 },
  });
  assert.ok(session.hello);
});

Deno.test("anything but client/hello first closes the connection", () => {
  const { say, closed } = connect();
  say(JSON.stringify({ type: "client/time", payload: { client_transmitted: 1 } }));
  assert.equal(closed()?.code, 1008);
  assert.match(closed()!.reason, /expected client\/hello first/);
});
