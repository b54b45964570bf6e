/**
 * Starting a party over NATS wrong, as a user would: each mistake is one line on stderr and
 * exit code 1. And README's locked-down nats-server config does what it says: the origin and
 * an edge play, a stranger can neither read nor publish the party's subjects.
 */
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { runProgram } from "../support/program.ts";
import { TestClient } from "../support/sendspin_client.ts";
import { needsNats, startEdge, startNatsServer, startParty, status } from "./rooms_support.ts";

const README = new URL("../../README.md", import.meta.url);

/** The one line a failed start printed (stderr), after checking it is one line and exit 1. */
function oneLine(result: { code: number; stderr: string }): string {
  assert.equal(result.code, 1, `exit code (stderr: ${result.stderr})`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
  assert.doesNotMatch(lines[0], /\bat \S+:\d+:\d+/, "no stack trace");
  return lines[0];
}

Deno.test({
  name: "wrong NATS credentials, nothing listening, not NATS, no JetStream: one line, exit 1",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer({ users: [{ user: "origin", password: "right" }] });
    const plain = await startNatsServer({ jetstream: false });
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("not NATS"),
    );
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = (closed.addr as Deno.NetAddr).port;
    closed.close();
    try {
      const wrong = `nats://origin:wrong@${nats.host}:${nats.port}`;
      assert.match(
        oneLine(await runProgram(["serve", "--demo", "--no-mdns", "--edges", wrong])),
        /refused our credentials \(user origin\)/,
      );
      assert.match(
        oneLine(await runProgram(["edge", wrong, "--no-mdns"])),
        /refused our credentials \(user origin\)/,
      );
      assert.match(
        oneLine(await runProgram(["edge", nats.url, "--no-mdns"])),
        /wants credentials/,
      );
      assert.match(
        oneLine(await runProgram(["edge", `nats://127.0.0.1:${closedPort}`, "--no-mdns"])),
        /connection refused/,
      );
      assert.match(
        oneLine(await runProgram(["edge", `nats://127.0.0.1:${http.addr.port}`, "--no-mdns"])),
        /did not answer as a NATS server/,
      );
      assert.match(
        oneLine(await runProgram(["serve", "--demo", "--no-mdns", "--edges", plain.url])),
        /has no JetStream/,
      );
      assert.match(
        oneLine(await runProgram(["edge", "http://example.com"])),
        /must be a nats:\/\/ or tls:\/\/ URL/,
      );
    } finally {
      await http.shutdown();
      await plain.stop();
      await nats.stop();
    }
  },
});

Deno.test({
  name: "a second origin of the same party is refused with one line",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    const home = Deno.makeTempDirSync();
    const first = await startParty(["--demo", "--no-mdns", "--edges", nats.url], { home });
    try {
      const second = await runProgram(
        ["serve", "--demo", "--no-mdns", "--port", "0", "--edges", nats.url],
        { home },
      );
      assert.match(oneLine(second), /already has an origin/);
    } finally {
      await first.stop();
      await nats.stop();
    }
  },
});

/** README's config block, passwords filled in, with the server's own JetStream store. */
async function readmeConfig(passwords: { origin: string; edge: string }): Promise<string> {
  const readme = await Deno.readTextFile(README);
  const section = readme.slice(readme.indexOf("## Several rooms"));
  const block = /```conf\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, "README's Several rooms has a conf block");
  return block
    .replace("ORIGIN_PASSWORD", passwords.origin)
    .replace("EDGE_PASSWORD", passwords.edge)
    .replace("jetstream {", 'jetstream { store_dir: "{{STORE}}",');
}

Deno.test({
  name:
    "README's locked-down config: origin and edge play, a stranger can neither read nor publish",
  ...needsNats,
  fn: async () => {
    const passwords = { origin: crypto.randomUUID(), edge: crypto.randomUUID() };
    const configText = (await readmeConfig(passwords)).replace(
      "  ]\n}",
      '    { user: stranger, password: "x", permissions: { publish: ["other.>"], subscribe: ["other.>", "_INBOX.>"] } }\n  ]\n}',
    );
    const nats = await startNatsServer({ configText });
    const folder = Deno.makeTempDirSync();
    const creds = (name: string, secret: string) => {
      const path = `${folder}/${name}.creds`;
      Deno.writeTextFileSync(path, `${name}:${secret}`, { mode: 0o600 });
      return path;
    };
    const origin = await startParty([
      "--demo",
      "--no-mdns",
      "--edges",
      nats.url,
      "--nats-creds",
      creds("origin", passwords.origin),
    ]);
    const edge = await startEdge(nats.url, ["--nats-creds", creds("edge", passwords.edge)]);
    const listener = await TestClient.connect(edge.url, { name: "edge listener" });
    const stranger = await connect({
      servers: `${nats.host}:${nats.port}`,
      user: "stranger",
      pass: "x",
    });
    try {
      await listener.waitFor("the edge plays", () => listener.chunks.length >= 20);
      assert.doesNotMatch(edge.log() + origin.log(), /Permissions Violation/i);

      // The stranger's subscription to the timeline is refused, and it hears nothing.
      const errors: string[] = [];
      (async () => {
        for await (const s of stranger.status()) {
          if (s.type === "error") errors.push(String(s.error));
        }
      })();
      let heard = 0;
      stranger.subscribe("sendspin.>", { callback: (error) => void (error || heard++) });
      stranger.publish("sendspin.party.x.edge.intruder", JSON.stringify({ type: "command" }));
      await stranger.flush().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(heard, 0, "the stranger heard nothing of the party");
      assert.ok(
        errors.some((e) => /Permissions Violation for Subscription/i.test(e)),
        errors.join(),
      );
      assert.ok(errors.some((e) => /Permissions Violation for Publish/i.test(e)), errors.join());

      const refused = await runProgram([
        "edge",
        nats.url,
        "--no-mdns",
        "--nats-creds",
        creds("stranger", "x"),
      ]);
      assert.match(oneLine(refused), /does not let user stranger use the party's subjects/);
    } finally {
      await stranger.close().catch(() => {});
      await listener.close();
      await edge.stop();
      await origin.stop();
      await nats.stop();
    }
  },
});

Deno.test({
  name: "junk on the edges' subject: the origin says so once and its party plays on",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    const origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url]);
    const listener = await TestClient.connect(origin.url, { name: "origin listener" });
    const intruder = await connect({ servers: `${nats.host}:${nats.port}` });
    try {
      const party = /\(party (\S+)\)/.exec(origin.output())?.[1];
      assert.ok(party, "the banner names the party");
      const subject = `sendspin.party.${party}.edge.intruder`;
      const junk = [
        "not json",
        "null",
        JSON.stringify({ type: "room", room: { id: "x", total: 1e9 } }),
        JSON.stringify({
          type: "room",
          room: { id: "x", name: "x", total: 1, perWorker: [1], rejected: 0 },
        }),
        JSON.stringify({ type: "group-volume", volume: 1e9 }),
        JSON.stringify({ type: "command", command: "rm -rf", clientId: "x" }),
        JSON.stringify({ type: "gone", id: { toString: null } }),
      ];
      for (let i = 0; i < 50; i++) for (const text of junk) intruder.publish(subject, text);
      await intruder.flush();
      await listener.waitFor("the party plays on", () => listener.chunks.length >= 40);
      const said = origin.log().split("\n").filter((line) => line.includes("intruder"));
      assert.equal(said.length, 1, said.join("\n"));
      assert.equal((await status(origin.url)).total_clients, 1, "no junk counted as guests");
    } finally {
      await intruder.close();
      await listener.close();
      await origin.stop();
      await nats.stop();
    }
  },
});
