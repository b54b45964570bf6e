/**
 * The test NATS server (support/nats_server.ts) against the real client library: it is ready
 * when it says so, checks passwords, keeps its JetStream store across a crash and comes back
 * on the same port. Ignored, with the reason, where nats-server is not installed.
 */
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { startNatsServer, whyNoNatsServer } from "./nats_server.ts";
import { ignoreUnless } from "./skip.ts";

const whyNot = await whyNoNatsServer();
const ignore = ignoreUnless(whyNot === undefined, `the nats-server self-test: ${whyNot}`);

const GUEST = { user: "guest", password: "secret" };

/** One message through `nc` to itself. */
async function roundTrip(nc: NatsConnection, subject: string, text: string): Promise<string> {
  const sub = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, text);
  for await (const message of sub) return message.string();
  throw new Error(`no message on ${subject}`);
}

Deno.test({
  name: "nats-server: users, publish/subscribe, JetStream, kill and restart on the same port",
  ignore,
  fn: async (t) => {
    // After "Authorization Violation" the client's discarded socket in Deno's node:net emits an
    // ECONNRESET nobody listens to; it would fail the test as uncaught. Only that, only here.
    const swallowReset = (event: ErrorEvent) => {
      if ((event.error as { code?: string })?.code === "ECONNRESET") event.preventDefault();
    };
    globalThis.addEventListener("error", swallowReset);
    const server = await startNatsServer({ users: [GUEST] });
    const options = { servers: server.url, user: GUEST.user, pass: GUEST.password };
    try {
      assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(server.url, `nats://${server.host}:${server.port}`);

      await t.step("the user connects, with JetStream on, and a message goes round", async () => {
        const nc = await connect({ ...options, reconnect: false });
        try {
          assert.equal(nc.info?.jetstream, true);
          assert.equal(await roundTrip(nc, "party.hello", "hi"), "hi");
        } finally {
          await nc.close();
        }
      });

      await t.step("a wrong password is refused", async () => {
        await assert.rejects(
          connect({ ...options, pass: "wrong", reconnect: false }),
          (error: Error) => /authorization violation/i.test(`${error.message} ${error.cause}`),
        );
        assert.match(server.log(), /authentication error - User "guest"/);
      });

      await t.step("after a kill: refused; after restart: same port, store kept", async () => {
        const nc = await connect({ ...options, reconnect: false });
        try {
          const jsm = await jetstreamManager(nc);
          await jsm.streams.add({
            name: "KEEP",
            subjects: ["keep.>"],
            storage: StorageType.File,
          });
          await jetstream(nc).publish("keep.one", "kept");
        } finally {
          await nc.close();
        }
        await server.kill();
        await assert.rejects(connect({ ...options, reconnect: false, timeout: 1_000 }));

        await server.restart();
        const fresh = await connect({ ...options, reconnect: false });
        try {
          assert.equal(await roundTrip(fresh, "party.again", "back"), "back");
          const info = await (await jetstreamManager(fresh)).streams.info("KEEP");
          assert.equal(info.state.messages, 1);
        } finally {
          await fresh.close();
        }
      });
    } finally {
      await server.stop();
      globalThis.removeEventListener("error", swallowReset);
    }
  },
});

Deno.test({
  name: "nats-server: a server that cannot start throws with its log",
  ignore,
  fn: async () => {
    const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const { port } = holder.addr;
      await assert.rejects(
        startNatsServer({ port, jetstream: false }),
        (error: Error) =>
          /exited .*before it was ready[\s\S]*address already in use/.test(error.message),
      );
    } finally {
      holder.close();
    }
  },
});
