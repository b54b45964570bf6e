/**
 * `--client cast://`: against a fake Cast device that speaks TLS and the length-prefixed
 * protobuf framing (with a self-signed certificate, as real devices have), the party
 * connects, launches the Sendspin receiver, tells it where to connect, and quits it on
 * shutdown. The fake device then does what the receiver app does: connects back as a
 * listener and plays.
 */
import assert from "node:assert/strict";
import {
  type CastMessage,
  CastMessageReader,
  encodeCastMessage,
} from "../../coordinator/cast/cast_message.ts";
import { SENDSPIN_APP_ID, SENDSPIN_NAMESPACE } from "../../coordinator/cast/cast_device.ts";
import { assertContiguousAndOnTime } from "../hardening/steady_listener.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

interface Received extends CastMessage {
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** A Cast device on loopback: answers like a Chromecast and records what it is sent. */
function fakeCastDevice() {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: fixture("fake_cast_cert.pem"),
    key: fixture("fake_cast_key.pem"),
  });
  const received: Received[] = [];
  const receivers: RawClient[] = [];
  let running = false;
  const status = (requestId: number) => ({
    type: "RECEIVER_STATUS",
    requestId,
    status: {
      applications: running
        ? [{
          appId: SENDSPIN_APP_ID,
          displayName: "Sendspin",
          sessionId: "session-1",
          transportId: "transport-1",
          namespaces: [{ name: SENDSPIN_NAMESPACE }],
        }]
        : [],
    },
  });
  (async () => {
    for await (const conn of listener) {
      const send = (namespace: string, sourceId: string, json: unknown) =>
        conn.write(encodeCastMessage({
          sourceId,
          destinationId: "sender-0",
          namespace,
          data: JSON.stringify(json),
        })).catch(() => {});
      const reader = new CastMessageReader((message) => {
        const json = JSON.parse(message.data);
        received.push({ ...message, json });
        if (json.type === "PING") send(message.namespace, message.destinationId, { type: "PONG" });
        if (json.type === "LAUNCH") {
          running = true;
          send(message.namespace, "receiver-0", status(json.requestId));
        }
        if (json.type === "STOP") {
          running = false;
          send(message.namespace, "receiver-0", status(json.requestId));
        }
        if (message.namespace === SENDSPIN_NAMESPACE) {
          // What the receiver app does with the message: connect back as a listener.
          RawClient.connect(json.serverUrl, { formats: [format("flac")], name: json.playerName })
            .then((client) => receivers.push(client));
        }
      });
      (async () => {
        // The device pings too, as real ones do; the sender must answer.
        await send("urn:x-cast:com.google.cast.tp.heartbeat", "receiver-0", { type: "PING" });
        for await (const bytes of conn.readable) reader.push(bytes);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    received,
    receivers,
    close: () => listener.close(),
  };
}

async function until(what: string, condition: () => boolean, ms = 15_000) {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test(
  "cast://: the Sendspin receiver is launched, told where the party is, and quit on shutdown",
  opts,
  async () => {
    const device = fakeCastDevice();
    const server = await startServer({ clients: [`cast://127.0.0.1:${device.port}`] });
    let stopped = false;
    try {
      await until("the receiver's audio", () => (device.receivers[0]?.chunks.length ?? 0) > 10);
      const [connect, ...rest] = device.received;
      assert.equal(connect.namespace, "urn:x-cast:com.google.cast.tp.connection");
      assert.equal(connect.json.type, "CONNECT");
      assert.equal(connect.sourceId, "sender-0");
      assert.equal(connect.destinationId, "receiver-0");
      const launch = rest.find((m) => m.json.type === "LAUNCH")!;
      assert.equal(launch.namespace, "urn:x-cast:com.google.cast.receiver");
      assert.equal(launch.json.appId, "938CBF87");
      assert.equal(typeof launch.json.requestId, "number");
      const appConnect = rest.find((m) => m.json.type === "CONNECT")!;
      assert.equal(appConnect.destinationId, "transport-1", "then a channel to the app itself");
      const hello = rest.find((m) => m.namespace === SENDSPIN_NAMESPACE)!;
      assert.equal(hello.destinationId, "transport-1");
      assert.equal(hello.json.serverUrl, server.url.replace(/\/$/, ""));
      assert.equal(hello.json.playerId, "cast-127-0-0-1");
      assert.equal(typeof hello.json.playerName, "string");
      assert.equal(hello.json.syncDelay, 0);
      assert.deepEqual(hello.json.codecs, ["flac"]);
      const pong = rest.find((m) => m.json.type === "PONG");
      assert.ok(pong, "the device's ping was answered");

      const receiver = device.receivers[0];
      assertContiguousAndOnTime(receiver, 10);
      const status = await (await fetch(new URL("/api/status", server.url))).json();
      assert.equal(status.total_clients, 1, "the Cast receiver plays as a guest");

      await server.stop();
      stopped = true;
      const stop = device.received.find((m) => m.json.type === "STOP");
      assert.ok(stop, "the app was quit on shutdown");
      assert.equal(stop.json.sessionId, "session-1");
      assert.equal(stop.destinationId, "receiver-0");
    } finally {
      if (!stopped) await server.stop();
      for (const receiver of device.receivers) await receiver.close();
      device.close();
    }
  },
);
