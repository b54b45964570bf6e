/**
 * A worker in its own process: the program re-executes itself with the mode argument
 * `worker`. Compiled, `Deno.execPath()` is the binary itself; from source it is deno, so we
 * pass `run`, the worker's own narrower permissions and main.ts. PCM and commands go down
 * its stdin, status lines come up its stdout, its log goes to our stderr.
 */
import { fileURLToPath } from "node:url";
import { readUp } from "../protocol/ipc.ts";
import type { LogLevel } from "../protocol/log.ts";
import type { WorkerServerOptions } from "../worker/worker.ts";
import type { StatusHandler, WorkerLink } from "./worker_link.ts";

export interface SubprocessWorkerOptions extends WorkerServerOptions {
  logLevel: LogLevel;
  onStatus: StatusHandler;
  onJunk: (line: string) => void;
}

const MAIN = new URL("../main.ts", import.meta.url);
/** About 15 s of chunks that a worker has not read: it is hung. */
const MAX_QUEUED_FRAMES = 256;
const ROOT = new URL("../", import.meta.url);
/**
 * A young generation of at most 2 MB per half: V8 would otherwise grow it to 16 MB under a
 * thousand listeners' garbage, some 30 MB of RSS per worker, for no measurable CPU gain
 * (BENCHMARKS.md). The `sendspin` and `compile` tasks pass the same flag.
 */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=2";

export function workerCommandLine(index: number, options: SubprocessWorkerOptions): string[] {
  const mode = [
    "worker",
    `--index=${index}`,
    `--host=${options.host}`,
    `--port=${options.port}`,
    `--name=${options.name}`,
    `--server-id=${options.serverId}`,
    `--log-level=${options.logLevel}`,
    `--opus-bitrate=${options.opusBitrate}`,
    `--max-clients=${options.maxClients}`,
    ...(options.reusePort ? ["--reuse-port"] : []),
  ];
  if (Deno.build.standalone) return mode;
  // A worker may listen and read its page; it may not run programs or read anything else.
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--unstable-net",
    V8_FLAGS,
    "--allow-net",
    `--allow-read=${fileURLToPath(options.assetsDir)}`,
    fileURLToPath(MAIN),
    ...mode,
  ];
}

export function startSubprocessWorker(
  index: number,
  options: SubprocessWorkerOptions,
): WorkerLink & { pid: number } {
  const child = new Deno.Command(Deno.execPath(), {
    args: workerCommandLine(index, options),
    cwd: fileURLToPath(ROOT),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const status = (async () => {
    for await (const message of readUp(child.stdout, options.onJunk)) options.onStatus(message);
  })().catch(() => {/* the process ended; its exit is what we report */});
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  const sendFrame = (frame: Uint8Array) => {
    // A worker that stops reading its stdin is hung: replace it rather than queue forever.
    if ((writer.desiredSize ?? 0) < -MAX_QUEUED_FRAMES) return kill();
    writer.write(frame).catch(() => {/* the process ended; its exit is reported */});
  };
  return {
    index,
    pid: child.pid,
    sendFrame,
    exited: Promise.all([child.status, status]).then(() => {}),
    close: () => writer.close().catch(() => {}),
    kill,
  };
}
