/**
 * Now playing on the wire: a tagged file's `server/state` metadata goes out once, whole
 * (title, artist and album together), and a file that loops does not send it again.
 */
import assert from "node:assert/strict";
import { ffmpeg, hasFfmpeg, tempDir } from "../coordinator/decode/helpers.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: !hasFfmpeg };

Deno.test(
  "a tagged file's now-playing state is sent once, whole, across its loops",
  opts,
  async () => {
    const dir = await tempDir();
    const path = `${dir.path}/tagged.mp3`;
    await ffmpeg([
      ...["-f", "lavfi", "-i", "sine=d=1"],
      ...[
        "-metadata",
        "title=Loop Song",
        "-metadata",
        "artist=The Band",
        "-metadata",
        "album=Live",
      ],
      path,
    ]);
    const server = await startServer({ source: { kind: "file", path } });
    const client = await RawClient.connect(server.url, {
      formats: [format("pcm")],
      roles: ["player@v1", "metadata@v1"],
    });
    try {
      // 2.5 s of timeline: the 1 s file has looped at least twice.
      await client.waitFor("2.5 s of audio", () => client.chunks.length >= 42, 15_000);
      const states = client.messagesOf("server/state").map((m) => m.payload.metadata)
        .filter(Boolean) as Record<string, unknown>[];
      assert.equal(states.length, 1, JSON.stringify(states));
      assert.deepEqual(
        { title: states[0].title, artist: states[0].artist, album: states[0].album },
        { title: "Loop Song", artist: "The Band", album: "Live" },
      );
    } finally {
      await client.close();
      await server.stop();
      await dir.remove();
    }
  },
);
