/**
 * A track change as clients live it, on a folder of three tagged tracks (the second with an
 * embedded cover): metadata and artwork change at the server time the new track is heard,
 * not when it is decoded seconds earlier, and never reach a client before that time.
 */
import assert from "node:assert/strict";
import { hasFfmpeg } from "../coordinator/decode/helpers.ts";
import { playlistFixture, TRACK_FRAMES } from "../support/playlist_fixture.ts";
import { probePicture } from "../support/images.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: it makes the tagged tracks");
const opts = { sanitizeOps: false, sanitizeResources: false, ignore };
const TRACK_US = (TRACK_FRAMES * 1_000_000) / 48_000;

Deno.test("metadata and cover change when the next track is heard", opts, async () => {
  const fixture = await playlistFixture();
  const server = await startServer({ source: { kind: "folder", path: fixture.dir } });
  const client = await RawClient.connect(server.url, {
    formats: [format("pcm")],
    roles: ["player@v1", "metadata@v1", "artwork@v1"],
    hello: {
      "artwork@v1_support": {
        channels: [{ source: "album", format: "png", media_width: 64, media_height: 64 }],
      },
    },
  });
  try {
    type Heard = Record<string, unknown> & { timestamp: number; arrivedUs: number };
    const metadata = (): Heard[] =>
      client.messages.flatMap((m, i) =>
        m.type === "server/state" && m.payload.metadata
          ? [{ ...(m.payload.metadata as Heard), arrivedUs: client.arrivals[i] }]
          : []
      );
    const heard = (title: string) => metadata().find((m) => m.title === title);
    await client.waitFor("Song 3 heard", () => heard("Song 3") !== undefined, 15_000);
    // Song 1 was also announced before anyone listened: its start is the last Song 1 state.
    const one = metadata().findLast((m) => m.title === "Song 1")!;
    const [two, three] = ["Song 2", "Song 3"].map((t) => heard(t)!);
    // Track joints fall on chunk edges: each track's first chunk is stamped with its change.
    const stamps = new Set(client.chunks.map((c) => c.playAtUs));
    for (const [earlier, later] of [[one, two], [two, three]]) {
      assert.equal(later.timestamp - earlier.timestamp, Math.round(TRACK_US));
      assert.ok(stamps.has(later.timestamp), "the change is a chunk's play time");
    }
    for (const state of [two, three]) {
      // The server's clock is this process's: told at its time or after, never before.
      assert.ok(state.arrivedUs >= state.timestamp, `${state.title} told early`);
      assert.equal(
        (state.progress as { track_progress: number }).track_progress,
        0,
      );
    }
    assert.deepEqual(
      {
        artist: two.artist,
        album_artist: two.album_artist,
        album: two.album,
        year: two.year,
        track: two.track,
      },
      { artist: "Artist 2", album_artist: "Band 2", album: "Album 2", year: 2002, track: 2 },
    );
    assert.match(
      String(two.artwork_url),
      /^http:\/\/127\.0\.0\.1:\d+\/artwork\/[0-9a-f]{16}\.png$/,
    );
    assert.equal(three.artwork_url, null, "track 3 has no cover");

    // The cover: its image stamped with track 2's change, an empty message at track 3's.
    const art = (atUs: number) => client.artwork.find((a) => a.atUs === atUs);
    const cover = art(two.timestamp);
    assert.ok(cover && cover.image.byteLength > 0, "track 2's cover, timed to its change");
    assert.deepEqual(await probePicture(cover.image), { codec: "png", width: 64, height: 48 });
    assert.equal(art(three.timestamp)?.image.byteLength, 0, "cleared at track 3");
  } finally {
    await client.close();
    await server.stop();
    await fixture.remove();
  }
});
