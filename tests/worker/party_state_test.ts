/**
 * What the party plays, as a worker's clients are told it: a state announced for a later
 * server time is told at that time, never before; a later announcement replaces what it
 * makes unheard; metadata carries every field of the spec; controllers are offered what the
 * coordinator says applies and their party commands go up, others do not.
 */
import assert from "node:assert/strict";
import { Group } from "../../worker/group.ts";
import { Logger } from "../../protocol/log.ts";
import type { NowPlaying, PartyCommand } from "../../protocol/now_playing.ts";
import { PartyState } from "../../worker/party_state.ts";
import { legacySession } from "../support/legacy_session.ts";
import { until } from "../support/until.ts";

const clock = { nowUs: () => performance.now() * 1000 };

function nowPlaying(atUs: number, title: string, more: Partial<NowPlaying> = {}): NowPlaying {
  return {
    atUs,
    track: { title, artist: "Band", album: "Live", year: 2021, track: 2, durationMs: 3_500 },
    positionMs: 0,
    playback: "playing",
    repeat: "all",
    shuffle: false,
    supported: ["pause", "next", "previous"],
    ...more,
  };
}

Deno.test("a state announced for later is told at its time, not before", async () => {
  const heard: { title?: string; atUs: number; heardUs: number }[] = [];
  const party = new PartyState(clock, (np) => {
    heard.push({ title: np.track.title, atUs: np.atUs, heardUs: clock.nowUs() });
  });
  try {
    party.announce(nowPlaying(clock.nowUs() - 1_000, "now"));
    assert.equal(party.current.track.title, "now", "a state due already is told at once");
    const atUs = clock.nowUs() + 150_000;
    party.announce(nowPlaying(atUs, "later"));
    assert.equal(party.current.track.title, "now", "the later one waits");
    await until("the later state is heard", () => heard.length === 2);
    assert.equal(heard[1].title, "later");
    assert.ok(heard[1].heardUs >= atUs, `told ${(atUs - heard[1].heardUs) / 1000} ms early`);
  } finally {
    party.stop();
  }
});

Deno.test("an announcement drops the pending ones it makes unheard (next)", async () => {
  const heard: string[] = [];
  const party = new PartyState(clock, (np) => heard.push(np.track.title!));
  try {
    party.announce(nowPlaying(clock.nowUs() + 400_000, "track 2, before next was pressed"));
    party.announce(nowPlaying(clock.nowUs() + 50_000, "track 3, after next"));
    await until("the new track is heard", () => heard.length >= 1);
    await new Promise((r) => setTimeout(r, 450));
    assert.deepEqual(heard, ["track 3, after next"]);
  } finally {
    party.stop();
  }
});

function party() {
  const commands: PartyCommand[] = [];
  const group = new Group({
    serverId: "s",
    name: "Party",
    clock,
    log: new Logger("CRITICAL"),
    onCommand: (_session, command) => commands.push(command),
  });
  const client = legacySession(group);
  client.say(JSON.stringify({
    type: "client/hello",
    payload: {
      client_id: "remote",
      name: "Remote",
      version: 1,
      supported_roles: ["controller@v1", "metadata@v1"],
    },
  }));
  const states = () =>
    client.sent.map((t) => JSON.parse(t)).filter((m) => m.type === "server/state")
      .map((m) => m.payload);
  return { group, client, commands, states };
}

Deno.test("metadata clients get every field, with progress at the state's time", () => {
  const { group, states } = party();
  const atUs = clock.nowUs() - 2_000_000;
  group.onNowPlaying(nowPlaying(atUs, "Song", { positionMs: 1_250, shuffle: true }));
  group.party.stop();
  const metadata = states().findLast((s) => s.metadata)!.metadata;
  assert.deepEqual(metadata, {
    timestamp: Math.round(atUs),
    title: "Song",
    artist: "Band",
    album_artist: null,
    album: "Live",
    artwork_url: null,
    year: 2021,
    track: 2,
    progress: { track_progress: 1_250, track_duration: 3_500, playback_speed: 1000 },
    repeat: "all",
    shuffle: true,
  });
  group.onNowPlaying(nowPlaying(clock.nowUs() - 1, "Song", { playback: "paused" }));
  group.party.stop();
  const paused = states().findLast((s) => s.metadata)!.metadata;
  assert.equal(paused.progress.playback_speed, 0, "paused: progress stands still");
});

Deno.test("controllers are offered what applies, and only that goes up", () => {
  const { group, client, commands, states } = party();
  group.onNowPlaying(nowPlaying(clock.nowUs() - 1, "Song", { supported: ["pause", "next"] }));
  group.party.stop();
  const controller = states().findLast((s) => s.controller)!.controller;
  assert.deepEqual(controller.supported_commands, ["volume", "mute", "pause", "next"]);
  assert.equal(controller.repeat, "all");
  const command = (name: string) =>
    client.say(
      JSON.stringify({ type: "client/command", payload: { controller: { command: name } } }),
    );
  command("next");
  command("previous"); // not offered now
  command("pause");
  command("reboot"); // no such command
  assert.deepEqual(commands, ["next", "pause"]);
});
