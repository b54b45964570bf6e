/**
 * Playlists on the wire: a folder of three generated tagged tracks heard gaplessly to the
 * end with --once (stream/end, exit 0); controller next/previous and pause/play acting for
 * everyone on 2 workers; bad playlists named in one line.
 */
import assert from "node:assert/strict";
import { hasFfmpeg } from "../coordinator/decode/helpers.ts";
import { startParty } from "../support/party_process.ts";
import { runProgram } from "../support/program.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import type { ReceivedChunk } from "../support/sendspin_client.ts";
import {
  chunkSamples,
  findPcm,
  type PlaylistFixture,
  playlistFixture,
  TRACK_FRAMES,
} from "../support/playlist_fixture.ts";
import { until } from "../support/until.ts";

const opts = { ignore: !hasFfmpeg, sanitizeOps: false, sanitizeResources: false };
const CHUNK_US = 60_000;
const ROLES = ["player@v1", "controller@v1", "metadata@v1"];

function origin(fixture: PlaylistFixture, chunk: ReceivedChunk) {
  const piece = chunkSamples(chunk.payload);
  for (const [index, track] of fixture.tracks.entries()) {
    const at = findPcm(track.pcm, piece);
    if (at >= 0) return { index, at };
  }
  return undefined;
}

const serverId = (c: RawClient) => c.messagesOf("server/hello")[0]?.payload.server_id as string;

/** One listener on each of the 2 workers (the kernel spreads connections over them). */
async function oneOnEachWorker(url: string): Promise<RawClient[]> {
  const byWorker = new Map<string, RawClient>();
  const spare: RawClient[] = [];
  for (let i = 0; i < 40 && byWorker.size < 2; i++) {
    const client = await RawClient.connect(url, { formats: [format("pcm")], roles: ROLES });
    await client.waitFor("server/hello", () => !!serverId(client));
    if (byWorker.has(serverId(client))) spare.push(client);
    else byWorker.set(serverId(client), client);
  }
  await Promise.all(spare.map((c) => c.close()));
  assert.equal(byWorker.size, 2, "a listener on each worker");
  return [...byWorker.values()];
}

Deno.test(
  "--once plays the folder gaplessly to its end, sends stream/end and exits 0",
  opts,
  async () => {
    const fixture = await playlistFixture();
    const party = await startParty([fixture.dir, "--once"]);
    const client = await RawClient.connect(party.url, { formats: [format("pcm")] });
    try {
      await client.waitFor("stream/end", () => client.messagesOf("stream/end").length > 0, 20_000);
      const { code } = await party.child.status;
      assert.equal(code, 0, party.log());
      assert.ok(client.chunks.length >= 60, client.describe());
      const heard = new Int16Array(client.chunks.length * 2_880 * 2);
      client.chunks.forEach((c, i) => heard.set(chunkSamples(c.payload), i * 2_880 * 2));
      const expected = new Int16Array(3 * TRACK_FRAMES * 2);
      fixture.tracks.forEach((t, i) => expected.set(t.pcm, i * TRACK_FRAMES * 2));
      // The listener joined at the start: it hears every track whole, back to back.
      assert.equal(findPcm(heard, expected), 0, "the three tracks, with no gap between them");
      client.chunks.slice(1).forEach((c, i) => {
        assert.equal(c.playAtUs - client.chunks[i].playAtUs, CHUNK_US, "one timeline");
      });
    } finally {
      await client.close();
      await party.stop();
      await fixture.remove();
    }
  },
);

// Needs the worker side of issue 15 (branch issue15-ctl): controller commands go up over IPC.
Deno.test(
  "a controller's next and previous change what everyone hears, on 2 workers",
  opts,
  async () => {
    const fixture = await playlistFixture();
    const server = await startServer({ source: { kind: "folder", path: fixture.dir }, workers: 2 });
    const clients = await oneOnEachWorker(server.url);
    try {
      await Promise.all(clients.map((c) => c.waitFor("audio", () => c.chunks.length >= 10)));
      for (const [command, index] of [["next", 1], ["previous", 0]] as const) {
        const clears = clients.map((c) => c.messagesOf("stream/clear").length);
        const marks = clients.map((c) => c.chunks.length);
        const sentUs = performance.now() * 1000;
        clients[0].send("client/command", { controller: { command } });
        for (const [i, client] of clients.entries()) {
          await client.waitFor(
            `${command}: the new track`,
            () =>
              client.chunks.slice(marks[i]).some((c) =>
                // Sent after the command and due within a second: not the loop's own turn, 5 s ahead.
                c.arrivedUs > sentUs && c.playAtUs < sentUs + 1_000_000 &&
                origin(fixture, c)?.index === index && origin(fixture, c)?.at === 0
              ),
            10_000,
          );
          // A skip is a seek for the spec: buffers cleared, the stream goes on.
          assert.equal(client.messagesOf("stream/clear").length, clears[i] + 1);
        }
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await server.stop();
      await fixture.remove();
    }
  },
);

// Needs the worker side of issue 15 (branch issue15-ctl): controller commands go up over IPC.
Deno.test(
  "pause and play on 2 workers: nothing timed inside the pause, contiguous after",
  opts,
  async () => {
    const fixture = await playlistFixture();
    const server = await startServer({ source: { kind: "folder", path: fixture.dir }, workers: 2 });
    const clients = await oneOnEachWorker(server.url);
    try {
      await Promise.all(clients.map((c) => c.waitFor("audio", () => c.chunks.length >= 10)));
      clients[1].send("client/command", { controller: { command: "pause" } });
      for (const client of clients) {
        await client.waitFor("stream/end", () => client.messagesOf("stream/end").length > 0);
      }
      const pausedUs = Math.max(...clients.map((c) => c.chunks.at(-1)!.playAtUs));
      const marks = clients.map((c) => c.chunks.length);
      await new Promise((r) => setTimeout(r, 500));
      clients[0].send("client/command", { controller: { command: "play" } });
      for (const [i, client] of clients.entries()) {
        await client.waitFor("audio again", () => client.chunks.length >= marks[i] + 10);
        const after = client.chunks.slice(marks[i]);
        assert.ok(after[0].playAtUs > pausedUs + 400_000, "nothing timed inside the pause");
        after.slice(1).forEach((c, j) => assert.equal(c.playAtUs - after[j].playAtUs, CHUNK_US));
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await server.stop();
      await fixture.remove();
    }
  },
);

Deno.test(
  "a playlist skips a missing file, an unreachable URL and itself, in one line each",
  opts,
  async () => {
    const fixture = await playlistFixture();
    const list = `${fixture.dir}/party.m3u`;
    await Deno.writeTextFile(
      list,
      [
        "#EXTM3U",
        "#EXTINF:1,Nobody - Missing",
        "missing.flac",
        "http://127.0.0.1:9/unreachable.mp3",
        "party.m3u",
        "#EXTINF:1,Listed - Second",
        fixture.tracks[1].path,
        "1-track.flac",
      ].join("\n"),
    );
    const party = await startParty([list]);
    const client = await RawClient.connect(party.url, { formats: [format("pcm")] });
    try {
      await client.waitFor("audio", () => client.chunks.length >= 50, 20_000);
      await until("the URL skipped", () => /Skipping http:\/\/127\.0\.0\.1:9\//.test(party.log()));
      const lines = party.log().split("\n");
      assert.equal(lines.filter((l) => l.includes("missing.flac")).length, 1, party.log());
      assert.equal(lines.filter((l) => l.includes("party.m3u lists party.m3u")).length, 1);
      const tracks = new Set(client.chunks.map((c) => origin(fixture, c)?.index));
      assert.ok(tracks.has(0) && tracks.has(1), "the good tracks play");
    } finally {
      await client.close();
      await party.stop();
      await fixture.remove();
    }
  },
);

Deno.test("a folder without audio and an empty playlist are one line and exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "no music here");
    const folder = await runProgram(["serve", dir, "--port", "0"]);
    assert.equal(folder.code, 1);
    assert.match(folder.stderr.trim(), /^error: the folder .* has no audio files/);
    assert.equal(folder.stderr.trim().split("\n").length, 1, folder.stderr);
    await Deno.writeTextFile(`${dir}/empty.m3u8`, "#EXTM3U\n");
    const empty = await runProgram(["serve", `${dir}/empty.m3u8`, "--port", "0"]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr.trim(), /^error: the playlist .* lists nothing that can be played$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
