import assert from "node:assert/strict";
import { roomEntryFrom, volumeChangeFrom } from "../../../coordinator/rooms/party_subjects.ts";

const good = {
  id: "RWgGv9bU",
  name: "Floor 2",
  role: "edge",
  total: 3,
  perWorker: [1, 2],
  rejected: 0,
  players: { count: 3, volumeSum: 150, muted: 0 },
  clock: { errorUs: null, roundTripUs: 4_100 },
  extra: "dropped",
};

Deno.test("an edge's room report is checked field by field and copied", () => {
  assert.deepEqual(roomEntryFrom(good), {
    id: "RWgGv9bU",
    name: "Floor 2",
    role: "edge",
    total: 3,
    perWorker: [1, 2],
    rejected: 0,
    players: { count: 3, volumeSum: 150, muted: 0 },
    clock: { errorUs: Infinity, roundTripUs: 4_100 },
  });
  for (
    const bad of [
      undefined,
      "room",
      { ...good, id: "a.b" },
      { ...good, id: 7 },
      { ...good, total: -1 },
      { ...good, total: 1.5 },
      { ...good, perWorker: "12" },
      { ...good, perWorker: Array(65).fill(0) },
      { ...good, perWorker: [1, "2"] },
      { ...good, players: undefined },
      { ...good, players: { count: 1, volumeSum: "x", muted: 0 } },
      { ...good, name: "x".repeat(201) },
    ]
  ) assert.equal(roomEntryFrom(bad), undefined, JSON.stringify(bad)?.slice(0, 80));
});

Deno.test("a group volume from NATS: 0-100 and a mute flag", () => {
  assert.deepEqual(volumeChangeFrom({ type: "group-volume", volume: 30 }), { volume: 30 });
  assert.deepEqual(volumeChangeFrom({ muted: true }), { muted: true });
  for (const bad of [{}, { volume: 101 }, { volume: -1 }, { volume: 2.5 }, { muted: "yes" }]) {
    assert.equal(volumeChangeFrom(bad), undefined, JSON.stringify(bad));
  }
});
