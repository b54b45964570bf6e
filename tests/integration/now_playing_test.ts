/**
 * Now playing on the wire: a tagged file's `server/state` metadata goes out whole (title,
 * artist and album together), once per pass of a looping file, when that pass is heard.
 */
import assert from "node:assert/strict";
import { ffmpeg, hasFfmpeg, tempDir } from "../coordinator/decode/helpers.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: !hasFfmpeg };

Deno.test(
  "a tagged file's now-playing state is sent whole, once per pass as it is heard",
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
      // Each pass over the looping file is announced when it is heard: the state before
      // anyone listened, then one per pass, each whole (never a field at a time).
      const metadata = () =>
        client.messagesOf("server/state").map((m) => m.payload.metadata)
          .filter(Boolean) as Record<string, unknown>[];
      await client.waitFor("three passes heard", () => metadata().length >= 4, 15_000);
      const states = metadata();
      for (const state of states) {
        assert.deepEqual(
          { title: state.title, artist: state.artist, album: state.album },
          { title: "Loop Song", artist: "The Band", album: "Live" },
          JSON.stringify(state),
        );
        assert.equal((state.progress as { track_progress: number }).track_progress, 0);
      }
      // Consecutive passes are one file apart in server time (the file is about 1 s).
      for (let i = 2; i < states.length; i++) {
        const apartMs = ((states[i].timestamp as number) - (states[i - 1].timestamp as number)) /
          1000;
        assert.ok(apartMs > 900 && apartMs < 1_200, `passes ${apartMs} ms apart`);
      }
    } finally {
      await client.close();
      await server.stop();
      await dir.remove();
    }
  },
);
