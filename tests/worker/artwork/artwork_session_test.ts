/**
 * The artwork@v1 role of a legacy session, in memory (a real Group, session and dialect):
 * each channel gets the cover in the format and size it asked for, stamped with the server
 * time its track is heard; a track without a cover and an "artist" channel get the empty
 * message; a "none" channel gets nothing; stream/request-format changes one channel.
 */
import assert from "node:assert/strict";
import { Group } from "../../../worker/group.ts";
import { ArtworkRole } from "../../../worker/artwork/artwork_role.ts";
import { Logger } from "../../../protocol/log.ts";
import type { NowPlaying } from "../../../protocol/now_playing.ts";
import { legacySession } from "../../support/legacy_session.ts";
import { hasFfmpeg, tempDir } from "../../coordinator/decode/helpers.ts";
import { makePicture, probePicture } from "../../support/images.ts";
import { ignoreUnless } from "../../support/skip.ts";
import { until } from "../../support/until.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: it makes and reads the pictures");
const KEY = "00112233445566ff.png";

function nowPlaying(atUs: number, artworkPath?: string): NowPlaying {
  return {
    atUs,
    track: {},
    positionMs: 0,
    playback: "playing",
    repeat: "off",
    shuffle: false,
    supported: [],
    ...(artworkPath ? { artworkPath } : {}),
  };
}

async function party() {
  const clock = { us: 1_000_000, nowUs: () => clock.us };
  const log = new Logger("CRITICAL");
  const artwork = new ArtworkRole(clock, log);
  const group = new Group({ serverId: "s", name: "Party", clock, log, artwork });
  const dir = await tempDir();
  await makePicture(`${dir.path}/cover.png`, 640, 480);
  artwork.onImage(KEY, "image/png", await Deno.readFile(`${dir.path}/cover.png`));
  await dir.remove();
  return { clock, artwork, group };
}

function hello(support?: unknown): string {
  return JSON.stringify({
    type: "client/hello",
    payload: {
      client_id: crypto.randomUUID(),
      name: "Frame",
      version: 1,
      supported_roles: ["artwork@v1", "metadata@v1"],
      ...(support ? { "artwork@v1_support": support } : {}),
    },
  });
}

/** The binary artwork messages: channel, timestamp, image. */
function images(audio: Uint8Array[]) {
  return audio.map((bytes) => ({
    channel: bytes[0] - 8,
    atUs: Number(new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(1)),
    image: bytes.subarray(9),
  }));
}

Deno.test({
  name: "each artwork channel gets the cover as it asked, at the time its track is heard",
  ignore,
  fn: async () => {
    const { clock, artwork, group } = await party();
    artwork.onNowPlaying(nowPlaying(900_000, `/artwork/${KEY}`)); // heard since 0.9 s
    const { say, sent, audio } = legacySession(group);
    say(hello({
      channels: [
        { source: "album", format: "jpeg", media_width: 300, media_height: 300 },
        { source: "none", format: "png", media_width: 10, media_height: 10 },
        { source: "artist", format: "png", media_width: 50, media_height: 50 },
      ],
    }));
    const welcome = JSON.parse(sent[0]);
    assert.deepEqual(welcome.payload.active_roles, ["artwork@v1", "metadata@v1"]);
    const start = sent.map((text) => JSON.parse(text)).find((m) => m.type === "stream/start");
    assert.deepEqual(start?.payload, {
      artwork: {
        channels: [
          { source: "album", format: "jpeg", width: 300, height: 300 },
          { source: "none" },
          { source: "artist", format: "png", width: 50, height: 50 },
        ],
      },
    });
    await until("the cover on channels 0 and 2", () => audio.length >= 2);
    const [album, artist] = images(audio);
    assert.deepEqual({ channel: album.channel, atUs: album.atUs }, { channel: 0, atUs: 900_000 });
    assert.deepEqual(await probePicture(album.image), { codec: "mjpeg", width: 300, height: 225 });
    assert.deepEqual(artist, { channel: 2, atUs: 900_000, image: new Uint8Array(0) });

    // The next track, without a cover, is heard from 4 s on: both channels are cleared then.
    clock.us = 1_500_000;
    artwork.onNowPlaying(nowPlaying(4_000_000));
    await until("the clears", () => audio.length >= 4);
    assert.deepEqual(images(audio.slice(2)), [
      { channel: 0, atUs: 4_000_000, image: new Uint8Array(0) },
      { channel: 2, atUs: 4_000_000, image: new Uint8Array(0) },
    ]);

    // Channel 1 turned on: a new stream/start, then that channel's cover now and what is
    // planned (the current one first), the other channels left alone.
    say(JSON.stringify({
      type: "stream/request-format",
      payload: {
        artwork: { channel: 1, source: "album", format: "png", media_width: 64, media_height: 64 },
      },
    }));
    await until("channel 1's cover and clear", () => audio.length >= 6);
    // stream/start names the size of what is sent: the asked maximum, then the cover's own.
    const starts = sent.map((text) => JSON.parse(text)).filter((m) => m.type === "stream/start")
      .map((m) => m.payload.artwork.channels);
    const sizes = (i: number) => starts.map((c) => c[i]?.width && `${c[i].width}x${c[i].height}`);
    assert.deepEqual([...new Set(sizes(0))], ["300x300", "300x225"]);
    assert.deepEqual([...new Set(sizes(1).filter(Boolean))], ["64x64", "64x48"]);
    assert.equal(starts.at(-1)[1].format, "png");
    const [cover, clear] = images(audio.slice(4));
    assert.deepEqual({ channel: cover.channel, atUs: cover.atUs }, { channel: 1, atUs: 900_000 });
    assert.deepEqual(await probePicture(cover.image), { codec: "png", width: 64, height: 48 });
    assert.deepEqual(clear, { channel: 1, atUs: 4_000_000, image: new Uint8Array(0) });
  },
});

Deno.test({
  name: "a cover is rendered once per format and size, for every client that asks for it",
  ignore,
  fn: async () => {
    const { artwork } = await party();
    const request = { format: "jpeg", width: 100, height: 100, fit: "inside" } as const;
    const first = artwork.images.render(KEY, request);
    assert.equal(artwork.images.render(KEY, { ...request }), first);
    assert.notEqual(artwork.images.render(KEY, { ...request, format: "png" }), first);
    assert.equal(artwork.images.render("ffffffffffffffff.png", request), undefined);
    await first;
  },
});

Deno.test("a legacy client without artwork@v1_support is not given the artwork role", async () => {
  const clock = { us: 0, nowUs: () => clock.us };
  const log = new Logger("CRITICAL");
  const artwork = new ArtworkRole(clock, log);
  const group = new Group({ serverId: "s", name: "Party", clock, log, artwork });
  const { say, sent, audio, closed } = legacySession(group);
  say(hello());
  assert.deepEqual(JSON.parse(sent[0]).payload.active_roles, ["metadata@v1"]);
  assert.equal(sent.some((text) => JSON.parse(text).type === "stream/start"), false);
  assert.deepEqual(audio, []);
  assert.equal(closed(), undefined);
  await Promise.resolve();
});

Deno.test("an artwork@v1_support with more than 4 channels or an odd size is refused", () => {
  for (
    const support of [
      { channels: Array(5).fill({ source: "none" }) },
      { channels: [{ source: "album", format: "jpeg", media_width: 0, media_height: 10 }] },
      { channels: [{ source: "album", format: "gif", media_width: 10, media_height: 10 }] },
    ]
  ) {
    const clock = { us: 0, nowUs: () => clock.us };
    const log = new Logger("CRITICAL");
    const group = new Group({
      serverId: "s",
      name: "P",
      clock,
      log,
      artwork: new ArtworkRole(clock, log),
    });
    const { say, closed } = legacySession(group);
    say(hello(support));
    assert.equal(closed()?.code, 1008, JSON.stringify(support));
    assert.match(closed()!.reason, /artwork@v1_support/);
  }
});

Deno.test({
  name: "a client that changes its artwork size again and again is held to a budget",
  ignore,
  fn: async () => {
    const { artwork, group } = await party();
    artwork.onNowPlaying(nowPlaying(900_000, `/artwork/${KEY}`));
    const { say, sent } = legacySession(group);
    say(hello({ channels: [{ source: "album", format: "png", media_width: 8, media_height: 8 }] }));
    for (let side = 10; side < 30; side++) { // 20 changes at one instant
      say(JSON.stringify({
        type: "stream/request-format",
        payload: { artwork: { channel: 0, media_width: side, media_height: side } },
      }));
    }
    const starts = () => sent.filter((text) => JSON.parse(text).type === "stream/start").length;
    // The first start, 8 changes, and for each a start naming the cover's own (4:3) size.
    await until("the 8 changes the budget allows", () => starts() >= 1 + 8);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for any beyond, were there any
    assert.ok(starts() <= 1 + 8 * 2, `${starts()} stream/start`);
  },
});
