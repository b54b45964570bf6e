/**
 * How the coordinator reaches a worker: bytes down, status lines up. An in-process worker
 * gets the very same byte streams a subprocess gets on stdin/stdout, so `--workers 1` runs
 * the multi-worker code path.
 */
import { readUp, type UpMessage } from "../protocol/ipc.ts";
import type { Logger } from "../protocol/log.ts";
import { systemClock } from "../protocol/clock.ts";
import { runWorker, type WorkerServerOptions } from "../worker/worker.ts";

export interface WorkerLink {
  readonly index: number;
  /** One encoded downward frame (encode once, send the same bytes to every worker). */
  sendFrame(frame: Uint8Array): void;
  /** Resolves when the worker has stopped. */
  readonly exited: Promise<void>;
  /** Ends its input: the worker closes its listeners and stops. */
  close(): void;
  /** Stops it at once (it did not stop in time). */
  kill(): void;
}

export interface InProcessWorkerOptions extends WorkerServerOptions {
  log: Logger;
  /** Listening clients to dial (only an in-process worker dials: `--client` needs one worker). */
  dial?: URL[];
}

/** Status messages of every worker go to one handler, in arrival order per worker. */
export type StatusHandler = (message: UpMessage) => void;

export function startInProcessWorker(
  index: number,
  options: InProcessWorkerOptions & { onStatus: StatusHandler },
): WorkerLink {
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const writer = down.writable.getWriter();
  const worker = runWorker({
    ...options,
    index,
    input: down.readable,
    output: up.writable,
    clock: systemClock,
  });
  const status = (async () => {
    const junk = (line: string) => options.log.warn(`worker ${index}: ${line}`);
    for await (const message of readUp(up.readable, junk)) options.onStatus(message);
  })();
  const sendFrame = (frame: Uint8Array) => {
    writer.write(frame).catch(() => {/* worker stopped; its exit is reported */});
  };
  return {
    index,
    sendFrame,
    exited: Promise.all([worker, status]).then(() => {}),
    close: () => writer.close().catch(() => {}),
    kill: () => writer.abort().catch(() => {}),
  };
}
