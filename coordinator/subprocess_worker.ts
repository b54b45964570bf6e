/**
 * A worker in its own process: the program re-executes itself in its internal `worker`
 * mode. Compiled, `Deno.execPath()` is the binary itself; from source it is deno, so we pass
 * `run`, the worker's own narrower permissions and main.ts. Its configuration is the first
 * frame on its stdin, commands follow; status lines come up its stdout; its log lines are
 * passed on to our stderr (the last one is kept, to say why it stopped).
 */
import { fileURLToPath } from "node:url";
import { encodeDown, readUp } from "../protocol/ipc.ts";
import { type Clock, systemClock } from "../protocol/clock.ts";
import type { WorkerConfig } from "../protocol/worker_config.ts";
import { FramePipe } from "./frame_pipe.ts";
import type { StatusHandler, WorkerExit, WorkerLink } from "./worker_link.ts";

export interface SubprocessWorkerOptions {
  onStatus: StatusHandler;
  /** A line on its stdout that is not a status message. */
  onJunk: (line: string) => void;
  /** The party's clock, in which frames expire; default this process's. */
  clock?: Clock;
}

const MAIN = new URL("../main.ts", import.meta.url);
const ROOT = new URL("../", import.meta.url);
/**
 * A young generation of at most 2 MB per half: V8 would otherwise grow it to 16 MB under a
 * thousand listeners' garbage, some 30 MB of RSS per worker, for no measurable CPU gain
 * (BENCHMARKS.md). The `sendspin` and `compile` tasks pass the same flag.
 */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=2";

/** The command line of a worker process: only its mode and, from source, its permissions. */
export function workerCommandLine(config: WorkerConfig): string[] {
  if (Deno.build.standalone) return ["worker"];
  // A worker may listen and read its page; it may not run programs or read anything else.
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--unstable-net",
    V8_FLAGS,
    "--allow-net",
    `--allow-read=${config.assetsDir}`,
    fileURLToPath(MAIN),
    "worker",
  ];
}

export function startSubprocessWorker(
  config: WorkerConfig,
  options: SubprocessWorkerOptions,
): WorkerLink {
  const child = new Deno.Command(Deno.execPath(), {
    args: workerCommandLine(config),
    cwd: fileURLToPath(ROOT),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pipe = new FramePipe(child.stdin, options.clock ?? systemClock);
  pipe.send(encodeDown({ type: "configure", config }));
  const status = (async () => {
    for await (const message of readUp(child.stdout, options.onJunk)) options.onStatus(message);
  })().catch(() => {/* the process ended; its exit is what we report */});
  const lastLine = passOn(child.stderr).catch(() => undefined);
  const exited = Promise.all([child.status, status, lastLine]).then(
    ([{ code, signal }, , line]): WorkerExit => ({
      code: signal ? undefined : code,
      signal: signal ?? undefined,
      lastLine: line,
    }),
  );
  return {
    index: config.index,
    pid: child.pid,
    send: (frame, sendOptions) => pipe.send(frame, sendOptions),
    exited,
    close: () => pipe.close(),
    kill: () => {
      try {
        child.kill("SIGKILL"); // also ends a stopped (SIGSTOP) process
      } catch {
        // already gone
      }
    },
  };
}

/** Copies a worker's log to our stderr line by line; resolves with its last line. */
async function passOn(stderr: ReadableStream<Uint8Array>): Promise<string | undefined> {
  let last: string | undefined;
  let pending = "";
  for await (const text of stderr.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      console.error(line);
      if (line.trim()) last = line.trim();
    }
  }
  if (pending.trim()) {
    console.error(pending);
    last = pending.trim();
  }
  return last;
}
