/**
 * `sendspin worker ...`: the internal mode the coordinator starts with `--workers` above 1.
 * Commands arrive on stdin, status goes to stdout, the log to stderr prefixed `[W<i>]`.
 * The coordinator builds this command line; a person never types it.
 */
import { parseArgs } from "node:util";
import { LOG_LEVELS, Logger, type LogLevel } from "../protocol/log.ts";
import { runWorker } from "./worker.ts";

const ASSETS_DIR = new URL("../web/dist/", import.meta.url);

export async function workerMain(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      strict: true,
      options: {
        index: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        name: { type: "string" },
        "server-id": { type: "string" },
        "log-level": { type: "string" },
        "opus-bitrate": { type: "string" },
        "max-clients": { type: "string" },
        "reuse-port": { type: "boolean" },
      },
    }).values;
  } catch (error) {
    console.error(`worker: ${(error as Error).message} (this mode is started by sendspin serve)`);
    return 1;
  }
  const index = Number(values.index);
  const port = Number(values.port);
  const level = (values["log-level"] ?? "INFO") as LogLevel;
  if (!Number.isInteger(index) || !Number.isInteger(port) || !LOG_LEVELS.includes(level)) {
    console.error(
      "worker: needs --index, --port and a valid --log-level (started by sendspin serve)",
    );
    return 1;
  }
  await runWorker({
    index,
    name: values.name ?? "Sendspin Server",
    serverId: values["server-id"] ?? `worker-${index}`,
    host: values.host ?? "0.0.0.0",
    port,
    reusePort: values["reuse-port"] === true,
    assetsDir: ASSETS_DIR,
    input: Deno.stdin.readable,
    output: Deno.stdout.writable,
    log: new Logger(level, `[W${index}] `),
    opusBitrate: Number(values["opus-bitrate"] ?? 128_000),
    maxClients: Number(values["max-clients"] ?? Infinity),
  });
  return 0;
}
