/**
 * Driving the server from a harness, through its command line alone: `--server-id` is the
 * legacy server_id on every worker, and `--summary FILE` records, per client, its hello, the
 * formats streamed, a sha256 that equals the hash of the audio the client received, the
 * metadata sent and the commands it sent. A path the server cannot write fails at start.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startParty } from "../support/party_process.ts";
import { runProgram } from "../support/program.ts";
import { format, RawClient } from "../support/raw_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("--summary's sha256 is the hash of what each client received", opts, async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/summary.json`;
  const party = await startParty([
    ...["--demo", "--workers", "2", "--no-mdns"],
    ...["--server-id", "harness-party", "--summary", path],
  ]);
  const clients: RawClient[] = [];
  const names: string[] = [];
  try {
    for (const codec of ["pcm", "flac", "opus"] as const) {
      names.push(`harness ${codec}`);
      const client = await RawClient.connect(party.url, {
        formats: [format(codec)],
        roles: ["player@v1", "controller@v1", "metadata@v1"],
        name: `harness ${codec}`,
      });
      clients.push(client);
    }
    for (const client of clients) await client.waitFor("audio", () => client.chunks.length >= 20);
    clients[0].send("client/command", { controller: { command: "volume", volume: 40 } });
    await clients[0].waitFor("its volume", () => client0Volume(clients[0]) === 40);
    // The server ends every stream and closes: each client has read all it was sent.
    assert.equal(await party.stop(), 0, party.log());
    for (const client of clients) await client.waitFor("closed", () => client.closed !== undefined);

    const summary = JSON.parse(Deno.readTextFileSync(path));
    assert.equal(Deno.statSync(path).mode! & 0o077, 0, "owner-only");
    assert.equal(summary.server.serverId, "harness-party");
    assert.equal(summary.clients.length, 3);
    for (const [i, client] of clients.entries()) {
      const serverId = client.messagesOf("server/hello")[0].payload.server_id;
      assert.equal(serverId, "harness-party", "one server_id on every worker");
      const record = summary.clients.find((c: { hello: { name: string } }) =>
        c.hello.name === names[i]
      );
      assert.ok(record, `no record for ${names[i]}`);
      const hash = createHash("sha256");
      for (const chunk of client.chunks) hash.update(chunk.payload);
      assert.deepEqual(record.audio, {
        chunks: client.chunks.length,
        bytes: client.chunks.reduce((sum, c) => sum + c.payload.byteLength, 0),
        sha256: hash.digest("hex"),
      });
      const started = client.messagesOf("stream/start").map((m) =>
        (m.payload.player as { codec: string }).codec
      );
      assert.deepEqual(record.formats.map((f: { codec: string }) => f.codec), started);
      const metadata = client.messagesOf("server/state").map((m) => m.payload.metadata)
        .filter(Boolean);
      assert.deepEqual(record.metadata, metadata);
    }
    const commands = summary.clients.find((c: { hello: { name: string } }) =>
      c.hello.name === "harness pcm"
    ).commands;
    assert.deepEqual(commands, [{ command: "volume", volume: 40 }]);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--summary where no file can be written is one line and exit 1", async () => {
  const notAFolder = Deno.makeTempFileSync();
  const result = await runProgram([
    ...["serve", "--demo", "--port", "0", "--no-mdns"],
    ...["--summary", `${notAFolder}/summary.json`],
  ]);
  Deno.removeSync(notAFolder);
  assert.equal(result.code, 1);
  const stderr = result.stderr;
  assert.match(stderr, /Cannot write the summary to .*summary\.json/);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
});

function client0Volume(client: RawClient): unknown {
  return client.messagesOf("server/command").map((m) => m.payload.player as { volume?: number })
    .findLast((p) => p?.volume !== undefined)?.volume;
}
