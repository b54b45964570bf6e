/**
 * The pool's supervision with stand-in workers (the real processes are tested in
 * tests/multiprocess): a worker that keeps crashing is given up on, and when none is left
 * the server is told, so it can stop with a clear message instead of serving nobody.
 */
import assert from "node:assert/strict";
import { type DownMessage, readDown, type UpMessage } from "../../protocol/ipc.ts";
import { Logger } from "../../protocol/log.ts";
import type { WorkerExit, WorkerLink } from "../../coordinator/worker_link.ts";
import { WorkerPool } from "../../coordinator/worker_pool.ts";
import { until } from "../support/until.ts";

/** A worker that starts listening, then dies after `lifeMs`. */
function crashingWorker(index: number, onStatus: (m: UpMessage) => void, lifeMs: number) {
  const exited = new Promise<WorkerExit>((resolve) =>
    setTimeout(() => resolve({ code: 1 }), lifeMs)
  );
  queueMicrotask(() => onStatus({ type: "listening", worker: index, port: 9_000 }));
  const link: WorkerLink = {
    index,
    send: () => {},
    exited,
    close: () => {},
    kill: () => {},
  };
  return link;
}

Deno.test("a worker that keeps crashing is given up on; with none left, the server is told", async () => {
  const spawned: number[] = [];
  let noneLeft = false;
  const pool = new WorkerPool({
    count: 1,
    port: 0,
    portPerWorker: false,
    log: new Logger("CRITICAL"),
    onTotal: () => {},
    onNoneLeft: () => noneLeft = true,
    restartDelaysMs: [5],
    spawn: (index, _port, onStatus) => {
      spawned.push(index);
      return crashingWorker(index, onStatus, 20);
    },
  });
  await pool.start();
  await until("the server told that no worker is left", () => noneLeft, {
    ms: 5_000,
    seen: () => `${spawned.length} workers started, never told`,
  });
  assert.equal(spawned.length, 6, "the first start and 5 restarts, then it gave up");
  await pool.stop();
});

Deno.test("covers go to every worker once, and a worker started later gets them before what plays", async () => {
  const frames: { index: number; type: string; key?: string }[] = [];
  const pool = new WorkerPool({
    count: 1,
    port: 0,
    portPerWorker: false,
    log: new Logger("CRITICAL"),
    onTotal: () => {},
    spawn: (index, _port, onStatus) => {
      queueMicrotask(() => onStatus({ type: "listening", worker: index, port: 9_000 }));
      return {
        index,
        send: async (frame: Uint8Array) => {
          for await (const message of readDown(ReadableStream.from([frame]))) {
            frames.push({
              index,
              type: message.type,
              key: message.type === "artwork" ? message.key : undefined,
            });
          }
        },
        exited: new Promise<WorkerExit>(() => {}),
        close: () => {},
        kill: () => {},
      } as WorkerLink;
    },
  });
  const cover = (key: string) => ({ key, mime: "image/png", bytes: new Uint8Array([0x89, 1]) });
  pool.broadcastArtwork(cover("aaaaaaaaaaaaaaaa.png"));
  pool.broadcastArtwork(cover("aaaaaaaaaaaaaaaa.png")); // a loop: the same cover again
  pool.broadcastNowPlaying({
    atUs: 1,
    track: {},
    positionMs: 0,
    playback: "playing",
    repeat: "off",
    shuffle: false,
    supported: [],
    artworkPath: "/artwork/aaaaaaaaaaaaaaaa.png",
  });
  await pool.start(); // the worker starts after both were announced
  await until("the worker's first frames", () => frames.length >= 2);
  assert.deepEqual(frames.slice(0, 2), [
    { index: 0, type: "artwork", key: "aaaaaaaaaaaaaaaa.png" },
    { index: 0, type: "now-playing", key: undefined },
  ]);
  frames.length = 0;
  pool.broadcastArtwork(cover("aaaaaaaaaaaaaaaa.png"));
  pool.broadcastArtwork(cover("bbbbbbbbbbbbbbbb.png"));
  await until("the new cover", () => frames.some((f) => f.key === "bbbbbbbbbbbbbbbb.png"));
  assert.deepEqual(frames.filter((f) => f.type === "artwork").map((f) => f.key), [
    "bbbbbbbbbbbbbbbb.png",
  ]);
  await pool.stop();
});

Deno.test("other rooms count into the party: totals with every room, players summed, onTotal the whole party", async () => {
  const messages: DownMessage[] = [];
  const totals: number[] = [];
  const pool = new WorkerPool({
    count: 1,
    port: 0,
    portPerWorker: false,
    log: new Logger("CRITICAL"),
    room: { name: "Hall", role: "origin" },
    onTotal: (total) => totals.push(total),
    spawn: (index, _port, onStatus) => {
      queueMicrotask(() => {
        onStatus({ type: "listening", worker: index, port: 9_000 });
        onStatus({ type: "listeners", worker: index, count: 2, rejected: 0 });
        onStatus({ type: "players", worker: index, count: 2, volumeSum: 100, muted: 0 });
      });
      return {
        index,
        send: async (frame: Uint8Array) => {
          for await (const message of readDown(ReadableStream.from([frame]))) {
            messages.push(message);
          }
        },
        exited: new Promise<WorkerExit>(() => {}),
        close: () => {},
        kill: () => {},
      } as WorkerLink;
    },
  });
  await pool.start();
  await until("this room's two listeners", () => pool.here === 2);
  pool.setRemote([{
    name: "Floor 2",
    role: "edge",
    total: 3,
    perWorker: [1, 2],
    rejected: 4,
    players: { count: 3, volumeSum: 240, muted: 3 },
    clock: { errorUs: 40, roundTripUs: 4_100 },
  }]);
  const last = <T extends DownMessage["type"]>(type: T) =>
    messages.filter((m): m is Extract<DownMessage, { type: T }> => m.type === type).at(-1);
  await until("the party's totals", () => last("totals")?.total === 5);
  assert.deepEqual(last("totals"), {
    type: "totals",
    total: 5,
    perWorker: [2],
    rejected: 4,
    rooms: [
      { name: "Hall", role: "origin", total: 2, perWorker: [2] },
      {
        name: "Floor 2",
        role: "edge",
        total: 3,
        perWorker: [1, 2],
        clock: { errorUs: 40, roundTripUs: 4_100 },
      },
    ],
  });
  // (2 × 50 + 240) / 5 players; muted only if all are.
  assert.deepEqual(last("players"), { type: "players", count: 5, volume: 68, muted: false });
  assert.equal(totals.at(-1), 5, "the origin plays while anyone anywhere listens");
  assert.equal(pool.room().total, 2, "what this room reports is its own");
  await pool.stop();
});
