/**
 * `sendspin serve` from the command line: settings and flags to a config, Ctrl+C to a clean
 * stop, a `ServeError` to one line and exit 1.
 */
import { ConfigError, parseServeArgs, SERVE_HELP } from "./config.ts";
import { serve, ServeError } from "./serve.ts";
import { readSettings } from "./settings.ts";
import { Logger } from "../protocol/log.ts";
import type { RunWorker } from "../protocol/worker_config.ts";

/** `runWorker` is the worker's entry point, for the worker that runs in this process. */
export async function runServe(args: string[], runWorker: RunWorker): Promise<number> {
  const { settings, warnings } = readSettings();
  const log = new Logger("INFO");
  let config;
  try {
    config = parseServeArgs(args, { settings, warn: (line) => log.warn(line) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    warnings.forEach((w) => log.warn(w));
    console.error(`error: ${error.message}`);
    return 1;
  }
  if ("help" in config) {
    console.log(SERVE_HELP);
    return 0;
  }
  warnings.forEach((w) => log.warn(w));
  const serveConfig = config;
  return await runUntilSignal((signal) =>
    serve(serveConfig, { signal, runWorker, consoleInput: Deno.stdin.readable })
  );
}

/**
 * Runs `run` until it ends or Ctrl+C (SIGINT, SIGTERM) aborts its signal; a second Ctrl+C
 * stops at once. A ServeError is one line and exit code 1.
 */
export async function runUntilSignal(run: (signal: AbortSignal) => Promise<void>): Promise<number> {
  const shutdown = new AbortController();
  const onSignal = () => {
    if (shutdown.signal.aborted) {
      // A second Ctrl+C: stop at once. Workers and ffmpeg end when their stdin/stdout
      // close with this process, so nothing is left behind.
      Deno.exit(130);
    }
    shutdown.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await run(shutdown.signal);
    return 0;
  } catch (error) {
    if (error instanceof ServeError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
