/**
 * Entry point: argument parsing and dispatch only. `serve` runs the party server; `worker`
 * is the internal mode in which the program re-executes itself.
 */
import type { RunWorker } from "./protocol/worker_config.ts";

// Each command loads only its own side: a worker process never holds the coordinator's code,
// and the coordinator loads the worker's only to run one in its own process (--workers 1).
const runWorker: RunWorker = async (config, io) =>
  (await import("./worker/worker.ts")).runWorker(config, io);

const HELP = `sendspin: a Sendspin Party server: one source, every listener in sync.

usage:
  sendspin serve [SOURCE] [options]   play SOURCE (or --demo) to every listener
  sendspin serve --help               all options of serve
  sendspin edge NATS_URL [options]    play a party from another machine in this room
  sendspin pair SP:0...               pair a speaker with the running server (its token)
  sendspin clients [list|approve ID|revoke ID|unpair ID]
                                      the running server's clients

Open the printed URL on any phone or laptop in the network and press Start Listening.`;

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "serve" || command === "edge") {
    const { runRoomCommand } = await import("./coordinator/room_command.ts");
    const { parseServeArgs, parseEdgeArgs } = await import("./coordinator/config.ts");
    const { SERVE_HELP, EDGE_HELP } = await import("./coordinator/help.ts");
    if (command === "serve") {
      const { serve } = await import("./coordinator/serve.ts");
      return await runRoomCommand(
        { parse: parseServeArgs, help: SERVE_HELP, run: serve },
        rest,
        runWorker,
      );
    }
    const { edge } = await import("./coordinator/edge.ts");
    return await runRoomCommand(
      { parse: parseEdgeArgs, help: EDGE_HELP, run: edge },
      rest,
      runWorker,
    );
  }
  if (command === "worker") return await (await import("./worker/worker_main.ts")).workerMain(rest);
  if (command === "pair" || command === "clients") {
    const { controlCommand, runControl } = await import("./coordinator/control/control_client.ts");
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
    `unknown command "${command}": use "sendspin serve", "edge", "pair" or "clients" (see sendspin --help)`,
  );
  return 1;
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
