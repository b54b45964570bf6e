/**
 * How the coordinator reaches a worker, wherever it runs: frames down, status lines up.
 * An in-process worker gets the very same frames a subprocess gets on its stdin, so
 * `--workers 1` runs the multi-worker code path.
 */
import type { UpMessage } from "../protocol/ipc.ts";

/** How a worker ended, for the log. */
export interface WorkerExit {
  code?: number;
  signal?: string;
  /** The last line it wrote to stderr, if any. */
  lastLine?: string;
}

export interface SendOptions {
  /**
   * Server time after which the frame is of no use to the worker (audio that has played):
   * a worker that reads slowly loses these, never anything else.
   */
  expiresUs?: number;
  /** A frame not yet written is replaced by a newer one of the same key (counts, tags). */
  key?: string;
}

export interface WorkerLink {
  readonly index: number;
  /** The process id of a subprocess worker. */
  readonly pid?: number;
  /** Queues one encoded downward frame (encode once, send the same bytes to every worker). */
  send(frame: Uint8Array, options?: SendOptions): void;
  /** Resolves when the worker has stopped. */
  readonly exited: Promise<WorkerExit>;
  /** Ends its input once what is queued is written: the worker closes its listeners and stops. */
  close(): void;
  /** Stops it at once (it did not stop in time, or it hangs). */
  kill(): void;
}

/** Status messages of every worker go to one handler, in arrival order per worker. */
export type StatusHandler = (message: UpMessage) => void;
