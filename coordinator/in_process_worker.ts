/**
 * The worker of `--workers 1`, in the coordinator's process: the worker's entry point is
 * handed in by `main.ts` (the coordinator imports nothing of the worker), and it gets the
 * same frames over an in-memory byte stream that a subprocess gets on its stdin.
 */
import { readDown, readUp } from "../protocol/ipc.ts";
import type { Logger } from "../protocol/log.ts";
import { type Clock, systemClock } from "../protocol/clock.ts";
import type { RunWorker, WorkerConfig } from "../protocol/worker_config.ts";
import { FramePipe } from "./frame_pipe.ts";
import type { StatusHandler, WorkerLink } from "./worker_link.ts";

export interface InProcessWorkerOptions {
  log: Logger;
  onStatus: StatusHandler;
  /** The party's clock, which the worker uses as is; default this process's. */
  clock?: Clock;
}

export function startInProcessWorker(
  runWorker: RunWorker,
  config: WorkerConfig,
  options: InProcessWorkerOptions,
): WorkerLink {
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const clock = options.clock ?? systemClock;
  const pipe = new FramePipe(down.writable, clock);
  const worker = runWorker(config, {
    input: readDown(down.readable),
    output: up.writable,
    clock,
    log: options.log,
  });
  const status = (async () => {
    const junk = (line: string) => options.log.warn(`worker ${config.index}: ${line}`);
    for await (const message of readUp(up.readable, junk)) options.onStatus(message);
  })();
  return {
    index: config.index,
    send: (frame, sendOptions) => pipe.send(frame, sendOptions),
    exited: Promise.all([worker, status]).then(
      () => ({ code: 0 }),
      (error) => ({ code: 1, lastLine: String(error?.message ?? error) }),
    ),
    close: () => pipe.close(),
    kill: () => pipe.abort(),
  };
}
