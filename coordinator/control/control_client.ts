/**
 * `sendspin pair TOKEN` and `sendspin clients [list|approve|revoke|unpair] [ID]`: one command
 * to the running server over the control socket (control_protocol.ts), its answer printed.
 */
import { settingsFolder } from "../private_files.ts";
import { CONTROL_SOCKET, type ControlReply } from "./control_protocol.ts";

const CLIENTS_USAGE =
  'usage: sendspin clients [list | approve ID | revoke ID | unpair ID]  (ID: a number from "list", or the start of an id)';

/** The console command for the CLI words, or a usage line. */
export function controlCommand(
  command: "pair" | "clients",
  args: string[],
): { command: string } | { usage: string } {
  if (command === "pair") {
    if (args.length !== 1) {
      return { usage: "usage: sendspin pair SP:0...  (the speaker's pairing token)" };
    }
    return { command: `p ${args[0]}` };
  }
  const [verb = "list", id, ...extra] = args;
  const verbs: Record<string, string> = { list: "l", approve: "a", revoke: "r", unpair: "u" };
  if (!(verb in verbs) || extra.length || (verb === "list") !== (id === undefined)) {
    return { usage: CLIENTS_USAGE };
  }
  return { command: id === undefined ? verbs[verb] : `${verbs[verb]} ${id}` };
}

/** Sends `command`, prints each answer line; returns the exit code. */
export async function runControl(
  command: string,
  options: { folder?: string; print?: (line: string) => void } = {},
): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const folder = options.folder ?? settingsFolder();
  if (!folder) {
    console.error("error: no home folder (HOME), so no running server can be found");
    return 1;
  }
  const path = `${folder}/${CONTROL_SOCKET}`;
  let connection: Deno.UnixConn;
  try {
    connection = await Deno.connect({ transport: "unix", path });
  } catch {
    console.error(
      `error: no sendspin server is running for this user (nothing answers on ${path}): start "sendspin serve" first`,
    );
    return 1;
  }
  try {
    await connection.write(new TextEncoder().encode(JSON.stringify({ command }) + "\n"));
    let pending = "";
    for await (const piece of connection.readable.pipeThrough(new TextDecoderStream())) {
      pending += piece;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const reply = JSON.parse(line) as ControlReply;
        if ("line" in reply) print(reply.line);
        else return reply.ok ? 0 : 1;
      }
    }
  } catch (error) {
    console.error(`error: the server stopped answering (${(error as Error).message})`);
    return 1;
  }
  console.error("error: the server closed the control connection without an answer");
  return 1;
}
