/**
 * The pool's supervision with stand-in workers (the real processes are tested in
 * tests/multiprocess): a worker that keeps crashing is given up on, and when none is left
 * the server is told, so it can stop with a clear message instead of serving nobody.
 */
import assert from "node:assert/strict";
import type { UpMessage } from "../../protocol/ipc.ts";
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
