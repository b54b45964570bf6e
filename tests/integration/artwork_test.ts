/**
 * Cover art end to end, on a real server playing a FLAC file with an embedded cover (made by
 * ffmpeg): artwork@v1 clients of both dialects get it in the format and size they asked for,
 * stamped with the server time its track is heard (the now-playing's atUs), as ffprobe reads
 * it; a source without a cover gets the empty message; every worker's HTTP front serves the
 * cover at the now-playing's artworkPath, a restarted worker too.
 */
import assert from "node:assert/strict";
import { ffmpeg, hasFfmpeg, tempDir } from "../coordinator/decode/helpers.ts";
import { makePicture, pixelAt, probePicture } from "../support/images.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { EncryptedClient } from "../support/encrypted/client.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";
import { until } from "../support/until.ts";
import { systemClock } from "../../protocol/clock.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: it makes the tagged file");
const opts = { sanitizeOps: false, sanitizeResources: false, ignore };

/** A 20 s FLAC (it does not loop during a test) with a 640 x 480 PNG cover embedded; returns its path and the cover's bytes. */
async function coveredTrack(dir: string): Promise<{ path: string; cover: Uint8Array }> {
  await makePicture(`${dir}/cover-in.png`, 640, 480);
  const path = `${dir}/covered.flac`;
  await ffmpeg([
    ...["-f", "lavfi", "-i", "sine=d=20", "-i", `${dir}/cover-in.png`, "-map", "0", "-map", "1"],
    ...["-c:a", "flac", "-c:v", "copy", "-disposition:v", "attached_pic", path],
  ]);
  return { path, cover: await Deno.readFile(`${dir}/cover-in.png`) };
}

function heardAtUs(server: TestServer): number {
  const atUs = server.pool.nowPlaying?.atUs;
  assert.ok(atUs !== undefined, "the server announced what plays");
  return atUs;
}

Deno.test(
  "a legacy artwork@v1 client gets the cover in each channel's format and size",
  opts,
  async () => {
    const dir = await tempDir();
    const { path, cover } = await coveredTrack(dir.path);
    const server = await startServer({ source: { kind: "file", path } });
    const client = await RawClient.connect(server.url, {
      formats: [format("pcm")],
      roles: ["player@v1", "artwork@v1"],
      hello: {
        "artwork@v1_support": {
          channels: [
            { source: "album", format: "jpeg", media_width: 300, media_height: 300 },
            { source: "album", format: "png", media_width: 100, media_height: 100 },
            { source: "none", format: "bmp", media_width: 10, media_height: 10 },
          ],
        },
      },
    });
    try {
      await client.waitFor("the cover on channels 0 and 1", () => client.artwork.length >= 2);
      const atUs = heardAtUs(server);
      const byChannel = new Map(client.artwork.map((a) => [a.channel, a]));
      assert.deepEqual([...byChannel.keys()].sort(), [0, 1], "nothing on the none channel");
      assert.deepEqual(await probePicture(byChannel.get(0)!.image), {
        codec: "mjpeg",
        width: 300,
        height: 225,
      });
      assert.deepEqual(await probePicture(byChannel.get(1)!.image), {
        codec: "png",
        width: 100,
        height: 75,
      });
      for (const { atUs: stamp } of client.artwork) assert.equal(stamp, atUs);
      const start = client.messagesOf("stream/start").find((m) => m.payload.artwork);
      assert.deepEqual((start?.payload.artwork as { channels: unknown[] }).channels.length, 2);

      // The cover as it is, on the HTTP front, at the path the now-playing names.
      const artworkPath = server.pool.nowPlaying?.artworkPath;
      assert.match(artworkPath ?? "", /^\/artwork\/[0-9a-f]{16}\.png$/);
      const response = await fetch(new URL(artworkPath!, server.url));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "image/png");
      assert.match(response.headers.get("cache-control") ?? "", /immutable/);
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), cover);
      const unknown = await fetch(new URL("/artwork/0123456789abcdef.png", server.url));
      assert.equal(unknown.status, 404);
      await unknown.body?.cancel();
    } finally {
      await client.close();
      await server.stop();
      await dir.remove();
    }
  },
);

Deno.test(
  "an encrypted artwork@v1 client gets the cover at exactly its size, padded with black",
  opts,
  async () => {
    const dir = await tempDir();
    const { path } = await coveredTrack(dir.path);
    const server = await startServer({ source: { kind: "file", path } });
    const client = await EncryptedClient.connect(server.url, {
      roles: ["player@v1", "artwork@v1"],
      artworkChannels: [
        { source: "none" },
        { source: "album", format: "png", width: 200, height: 200 },
      ],
    });
    try {
      await client.waitFor("the cover on channel 1", () => client.artwork.images.length >= 1);
      const [image] = client.artwork.images;
      assert.equal(image.channel, 1);
      assert.equal(image.atUs, heardAtUs(server));
      assert.deepEqual(await probePicture(image.bytes), { codec: "png", width: 200, height: 200 });
      assert.deepEqual(
        await pixelAt(image.bytes, 100, 2),
        [0, 0, 0],
        "black above the 4:3 picture",
      );
      const start = client.messagesOf("stream/start").find((m) => m.payload.artwork);
      assert.deepEqual(start?.payload.artwork, {
        channels: [{ source: "none" }, { source: "album", format: "png", width: 200, height: 200 }],
      });
      assert.equal(typeof start?.payload.server_transmitted, "number");

      // Channel 1 turned off and channel 0 on, in one client/state: channel 1 is cleared first
      // (now), then the new stream/start, then channel 0's cover at its track's time.
      client.artworkChannels = [
        { source: "album", format: "jpeg", width: 120, height: 90 },
        { source: "none" },
      ];
      const restart = client.next("stream/start");
      client.sendState();
      await restart;
      await client.waitFor("the clear and the new cover", () => client.artwork.images.length >= 3);
      const [clear, cover] = client.artwork.images.slice(1);
      assert.deepEqual({ channel: clear.channel, size: clear.bytes.length }, {
        channel: 1,
        size: 0,
      });
      assert.ok(clear.atUs > image.atUs, "the clear is stamped with the present");
      assert.equal(cover.channel, 0);
      assert.equal(cover.atUs, image.atUs);
      assert.deepEqual(await probePicture(cover.bytes), { codec: "mjpeg", width: 120, height: 90 });

      // Taken by another system: the artwork stream ends with the player's.
      const ended = client.next(
        "stream/end",
        5_000,
        (p) => (p.roles as string[])?.includes("artwork"),
      );
      client.sendState({}, false);
      await ended;
      assert.deepEqual(client.faults, []);
    } finally {
      await client.close();
      await server.stop();
      await dir.remove();
    }
  },
);

Deno.test("a source without a cover sends artwork clients the empty message", opts, async () => {
  const startedUs = systemClock.nowUs(); // the in-process coordinator's clock
  const server = await startServer(); // the demo: no cover
  const legacy = await RawClient.connect(server.url, {
    formats: [format("pcm")],
    roles: ["artwork@v1"],
    hello: {
      "artwork@v1_support": {
        channels: [{ source: "album", format: "jpeg", media_width: 64, media_height: 64 }],
      },
    },
  });
  const encrypted = await EncryptedClient.connect(server.url, { roles: ["artwork@v1"] });
  try {
    await legacy.waitFor("the empty message", () => legacy.artwork.length >= 1);
    await encrypted.waitFor("the empty image", () => encrypted.artwork.images.length >= 1);
    // Stamped with the time the source was first announced (its tags may have come later).
    const atUs = legacy.artwork[0]?.atUs;
    assert.ok(atUs >= startedUs && atUs <= heardAtUs(server), `${atUs}`);
    assert.deepEqual(legacy.artwork, [{ channel: 0, atUs, image: new Uint8Array(0) }]);
    assert.deepEqual(encrypted.artwork.images, [{ channel: 0, atUs, bytes: new Uint8Array(0) }]);
    assert.deepEqual(encrypted.faults, []);
  } finally {
    await legacy.close();
    await encrypted.close();
    await server.stop();
  }
});

Deno.test(
  "every worker serves and renders the cover, and a worker started again is handed it again",
  opts,
  async () => {
    const dir = await tempDir();
    const { path, cover } = await coveredTrack(dir.path);
    const server = await startServer({
      source: { kind: "file", path },
      workers: 2,
      portPerWorker: true,
    });
    try {
      const artworkPath = server.pool.nowPlaying?.artworkPath;
      assert.ok(artworkPath, "the track has a cover");
      const fetchFrom = async (worker: number) => {
        const response = await fetch(
          `http://127.0.0.1:${server.pool.slots[worker].port}${artworkPath}`,
        );
        return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
      };
      for (const worker of [0, 1]) {
        assert.deepEqual(await fetchFrom(worker), {
          status: 200,
          bytes: cover,
        });
      }

      const victim = server.pool.slots[1].link as unknown as { pid: number };
      Deno.kill(victim.pid, "SIGKILL");
      await until("a new worker 1", () => {
        const { link, listened } = server.pool.slots[1];
        const pid = (link as unknown as { pid: number } | undefined)?.pid;
        return pid !== undefined && pid !== victim.pid && listened;
      }, { ms: 10_000 });
      await until(
        "worker 1 serves the cover again",
        async () => (await fetchFrom(1).catch(() => ({ status: 0 }))).status === 200,
        {
          ms: 5_000,
        },
      );
      assert.deepEqual(await fetchFrom(1), { status: 200, bytes: cover });

      // A worker process renders the cover under its own permissions (net, its assets): no
      // environment, no files, which a test process with every permission would not show.
      const client = await RawClient.connect(`http://127.0.0.1:${server.pool.slots[1].port}/`, {
        formats: [format("pcm")],
        roles: ["artwork@v1"],
        hello: {
          "artwork@v1_support": {
            channels: [{ source: "album", format: "jpeg", media_width: 80, media_height: 80 }],
          },
        },
      });
      try {
        await client.waitFor("the cover from worker 1", () => client.artwork.length >= 1);
        assert.deepEqual(await probePicture(client.artwork[0].image), {
          codec: "mjpeg",
          width: 80,
          height: 60,
        });
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
      await dir.remove();
    }
  },
);
