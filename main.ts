/**
 * Entry point: argument parsing and dispatch only. `serve` runs the party server; `worker`
 * is the internal mode in which the program re-executes itself.
 */
import { ConfigError, parseServeArgs, SERVE_HELP } from "./coordinator/config.ts";
import { serve, ServeError } from "./coordinator/serve.ts";
import { readSettings } from "./coordinator/settings.ts";
import { Logger } from "./protocol/log.ts";
import { workerMain } from "./worker/worker_main.ts";
import { controlCommand, runControl } from "./coordinator/control/control_client.ts";
import { runWorker } from "./worker/worker.ts";

const HELP = `sendspin: a Sendspin Party server: one source, every listener in sync.

usage:
  sendspin serve [SOURCE] [options]   play SOURCE (or --demo) to every listener
  sendspin serve --help               all options of serve
  sendspin pair SP:0...               pair a speaker with the running server (its token)
  sendspin clients [list|approve ID|revoke ID|unpair ID]
                                      the running server's clients

Open the printed URL on any phone or laptop in the network and press Start Listening.`;

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "serve") return await runServe(rest);
  if (command === "worker") return await workerMain(rest);
  if (command === "pair" || command === "clients") {
    const control = controlCommand(command, rest);
    if ("usage" in control) {
      console.error(control.usage);
      return 1;
    }
    return await runControl(control.command);
  }
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    console.log(HELP);
    return command === undefined ? 1 : 0;
  }
  console.error(
    `unknown command "${command}": use "sendspin serve", "pair" or "clients" (see sendspin --help)`,
  );
  return 1;
}

async function runServe(args: string[]): Promise<number> {
  const { settings, warnings } = readSettings();
  const log = new Logger("INFO");
  let config;
  try {
    config = parseServeArgs(args, { settings });
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
    await serve(config, { signal: shutdown.signal, runWorker, consoleInput: Deno.stdin.readable });
    return 0;
  } catch (error) {
    if (error instanceof ServeError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  main(Deno.args).then(
    (code) => Deno.exit(code),
    (error) => {
      console.error(`sendspin stopped by an unexpected error: ${error?.stack ?? error}`);
      Deno.exit(70);
    },
  );
}
