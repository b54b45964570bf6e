/**
 * `sendspin serve` and `sendspin edge` from the command line: settings and flags to a
 * config (a ConfigError is one line and exit 1, --help the text and exit 0), then the room
 * runs until it ends or Ctrl+C stops it cleanly; a ServeError is one line and exit 1.
 */
import { ConfigError, type ParseServeOptions } from "./config.ts";
import { ServeError } from "./room.ts";
import type { RoomOptions } from "./room.ts";
import { readSettings } from "./settings.ts";
import { Logger } from "../protocol/log.ts";
import type { RunWorker } from "../protocol/worker_config.ts";

export interface RoomCommand<Config> {
  parse: (args: string[], options: ParseServeOptions) => Config | { help: true };
  help: string;
  run: (config: Config, options: RoomOptions) => Promise<void>;
}

/** `runWorker` is the worker's entry point, for the worker that runs in this process. */
export async function runRoomCommand<Config>(
  command: RoomCommand<Config>,
  args: string[],
  runWorker: RunWorker,
): Promise<number> {
  const { settings, warnings } = readSettings();
  const log = new Logger("INFO");
  let config;
  try {
    config = command.parse(args, { settings, warn: (line) => log.warn(line) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    warnings.forEach((w) => log.warn(w));
    console.error(`error: ${error.message}`);
    return 1;
  }
  if (typeof config === "object" && config !== null && "help" in config) {
    console.log(command.help);
    return 0;
  }
  warnings.forEach((w) => log.warn(w));
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
    await command.run(config as Config, {
      signal: shutdown.signal,
      runWorker,
      consoleInput: Deno.stdin.readable,
    });
    return 0;
  } catch (error) {
    if (error instanceof ServeError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
