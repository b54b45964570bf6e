/**
 * `sendspin worker`: the internal mode the coordinator starts with `--workers` above 1. Its
 * configuration is the first frame on stdin, commands follow; status goes to stdout, the
 * log to stderr prefixed `[W<i>]`. The coordinator starts it; a person never types it.
 */
import { MalformedFrameError, readDown } from "../protocol/ipc.ts";
import { checkWorkerConfig, WorkerConfigError } from "../protocol/worker_config.ts";
import { runWorker } from "./worker.ts";

export async function workerMain(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error("worker: takes no arguments; it is started by sendspin serve");
    return 1;
  }
  const input = readDown(Deno.stdin.readable);
  let config;
  try {
    const first = await input.next();
    if (first.done) return 0; // the coordinator went away before it said anything
    if (first.value.type !== "configure") {
      throw new WorkerConfigError(`expected the configuration first, got "${first.value.type}"`);
    }
    config = checkWorkerConfig(first.value.config);
  } catch (error) {
    if (!(error instanceof WorkerConfigError || error instanceof MalformedFrameError)) throw error;
    console.error(`worker: ${error.message} (this mode is started by sendspin serve)`);
    return 1;
  }
  await runWorker(config, { input, output: Deno.stdout.writable });
  return 0;
}
