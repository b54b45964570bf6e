/**
 * The party player over a folder of three tracks, in memory: gapless joints, announcements
 * at the time a track is heard, next and previous cutting in, pause and play.
 */
import assert from "node:assert/strict";
import { Party } from "../../coordinator/party.ts";
import { resolveTracks } from "../../coordinator/playlist/tracks.ts";
import { type StampedChunk, Timeline } from "../../coordinator/timeline.ts";
import { systemClock } from "../../protocol/clock.ts";
import { Logger } from "../../protocol/log.ts";
import type { NowPlaying } from "../../protocol/now_playing.ts";
import { hasFfmpeg } from "./decode/helpers.ts";
import {
  chunkSamples,
  findPcm,
  playlistFixture,
  TRACK_FRAMES,
} from "../support/playlist_fixture.ts";
import { until } from "../support/until.ts";

const opts = { ignore: !hasFfmpeg, sanitizeOps: false, sanitizeResources: false };
const CHUNK_SAMPLES = 2_880 * 2;

async function startParty(options: { once?: boolean } = {}) {
  const fixture = await playlistFixture();
  const chunks: StampedChunk[] = [];
  const announced: NowPlaying[] = [];
  let stopped = 0;
  const timeline = new Timeline({ clock: systemClock, emit: (c) => chunks.push(c) });
  const party = new Party({
    tracks: await resolveTracks({ kind: "folder", path: fixture.dir }, () => {}),
    useFfmpeg: true,
    timeline,
    clock: systemClock,
    log: new Logger("CRITICAL"),
    once: options.once,
    announce: (np) => announced.push(np),
    onStopped: () => stopped++,
  });
  await party.prepare();
  return { fixture, chunks, announced, party, stopped: () => stopped };
}

/** Which track and sample offset a chunk's PCM comes from. */
function origin(fixture: Awaited<ReturnType<typeof playlistFixture>>, chunk: StampedChunk) {
  const piece = chunkSamples(chunk.pcm);
  for (const [index, track] of fixture.tracks.entries()) {
    const at = findPcm(track.pcm, piece);
    if (at >= 0) return { index, at };
  }
  return undefined;
}

Deno.test(
  "tracks follow each other gaplessly, each announced when its first sample is heard",
  opts,
  async () => {
    const { fixture, chunks, announced, party } = await startParty({ once: true });
    try {
      await party.setWanted(true);
      await until("the whole list", () => chunks.length >= 60, { ms: 20_000 });
      const pcm = new Int16Array(60 * CHUNK_SAMPLES);
      chunks.slice(0, 60).forEach((c, i) => pcm.set(chunkSamples(c.pcm), i * CHUNK_SAMPLES));
      const expected = new Int16Array(3 * TRACK_FRAMES * 2);
      fixture.tracks.forEach((t, i) => expected.set(t.pcm, i * TRACK_FRAMES * 2));
      assert.equal(findPcm(pcm, expected), 0, "the PCM is the three tracks back to back");
      assert.equal(new Set(chunks.slice(0, 60).map((c) => c.segment)).size, 1, "one segment");
      for (let k = 0; k < 3; k++) {
        const np = announced.find((n) =>
          n.track.title === `Song ${k + 1}` && n.positionMs === 0 && n.atUs > 0 &&
          n.playback === "playing" && n.atUs === chunks[20 * k].playAtUs
        );
        assert.ok(
          np,
          `Song ${k + 1} announced at ${chunks[20 * k].playAtUs}: ${
            JSON.stringify(announced.map((n) => [n.track.title, n.atUs]))
          }`,
        );
      }
      const second = announced.find((n) => n.track.title === "Song 2")!;
      assert.deepEqual(second.track, {
        title: "Song 2",
        artist: "Artist 2",
        album_artist: "Band 2",
        album: "Album 2",
        year: 2002,
        track: 2,
        durationMs: 1200,
      });
      assert.deepEqual(second.supported.sort(), [
        "next",
        "pause",
        "previous",
        "repeat_all",
        "repeat_off",
        "repeat_one",
        "shuffle",
        "stop",
        "unshuffle",
      ]);
      await party.ended; // heard to the end
    } finally {
      await party.setWanted(false);
      await fixture.remove();
    }
  },
);

Deno.test(
  "next and previous drop the audio ahead and start the track at a fresh anchor",
  opts,
  async () => {
    const { fixture, chunks, announced, party, stopped } = await startParty();
    try {
      await party.setWanted(true);
      await until("audio ahead", () => chunks.length >= 40, { ms: 20_000 });
      const before = chunks.length;
      const segment = chunks.at(-1)!.segment;
      await party.command("next");
      assert.equal(stopped(), 1, "the workers were told to drop what they hold");
      await until("the new track", () => chunks.length > before, { ms: 5_000 });
      const first = chunks[before];
      assert.ok(first.segment > segment, "a new segment");
      assert.deepEqual(origin(fixture, first), { index: 1, at: 0 }, "Song 2 from its start");
      assert.ok(first.playAtUs - systemClock.nowUs() < 300_000, "cut in at once, ~250 ms ahead");
      await until("announced", () => announced.some((n) => n.atUs === first.playAtUs));
      assert.equal(announced.find((n) => n.atUs === first.playAtUs)!.track.title, "Song 2");

      const mark = chunks.length;
      await party.command("previous"); // within 3 s of its start: back to Song 1
      await until("the previous track", () => chunks.length > mark, { ms: 5_000 });
      assert.deepEqual(origin(fixture, chunks[mark]), { index: 0, at: 0 });
    } finally {
      await party.setWanted(false);
      await fixture.remove();
    }
  },
);

Deno.test(
  "pause sends nothing during the pause; play resumes where it was heard, contiguous",
  opts,
  async () => {
    const { fixture, chunks, announced, party } = await startParty();
    try {
      await party.setWanted(true);
      await until("audio ahead", () => chunks.length >= 30, { ms: 20_000 });
      await new Promise((r) => setTimeout(r, 400)); // Song 1 is heard a while
      await party.command("pause");
      const pausedUs = systemClock.nowUs();
      const paused = announced.at(-1)!;
      assert.equal(paused.playback, "paused");
      assert.ok(paused.positionMs > 100 && paused.positionMs < 1200, `at ${paused.positionMs} ms`);
      assert.ok(!party.supported().includes("pause") && party.supported().includes("play"));
      const count = chunks.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(chunks.length, count, "nothing is sent while paused");
      await party.command("play");
      await until("audio again", () => chunks.length >= count + 10, { ms: 5_000 });
      const resumed = chunks.slice(count);
      assert.ok(resumed[0].playAtUs > pausedUs + 300_000, "nothing timed inside the pause");
      resumed.slice(1).forEach((c, i) => {
        assert.equal(c.segment, resumed[0].segment);
        assert.equal(c.playAtUs - resumed[i].playAtUs, 60_000, "contiguous timestamps");
      });
      const where = origin(fixture, resumed[0])!;
      assert.equal(where.index, 0);
      const heardMs = where.at / 2 / 48;
      assert.ok(Math.abs(heardMs - paused.positionMs) <= 1, `resumed at ${heardMs} ms`);
    } finally {
      await party.setWanted(false);
      await fixture.remove();
    }
  },
);
