/**
 * `sendspin edge` from the command line: flags and settings to a config, Ctrl+C to a clean
 * stop, a `ServeError` to one line and exit 1 (as `serve`, see serve_command.ts).
 */
import { ConfigError, parseEdgeArgs } from "./config.ts";
import { EDGE_HELP } from "./help.ts";
import { edge } from "./edge.ts";
import { runUntilSignal } from "./serve_command.ts";
import { readSettings } from "./settings.ts";
import { Logger } from "../protocol/log.ts";
import type { RunWorker } from "../protocol/worker_config.ts";

export async function runEdge(args: string[], runWorker: RunWorker): Promise<number> {
  const { settings, warnings } = readSettings();
  const log = new Logger("INFO");
  let config;
  try {
    config = parseEdgeArgs(args, { settings, warn: (line) => log.warn(line) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    warnings.forEach((w) => log.warn(w));
    console.error(`error: ${error.message}`);
    return 1;
  }
  if ("help" in config) {
    console.log(EDGE_HELP);
    return 0;
  }
  warnings.forEach((w) => log.warn(w));
  const edgeConfig = config;
  return await runUntilSignal((signal) =>
    edge(edgeConfig, { signal, runWorker, consoleInput: Deno.stdin.readable })
  );
}
