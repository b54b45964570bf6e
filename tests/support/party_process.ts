/**
 * `sendspin serve` as a real process, started as a user starts it (the `sendspin` task's
 * command line) on a port the OS picks: the port is read from the banner, the log is kept,
 * and its worker processes can be listed.
 */
import { program } from "./program.ts";
import { until } from "./until.ts";

export interface PartyProcess {
  url: string;
  port: number;
  child: Deno.ChildProcess;
  /** Everything it wrote to stderr so far. */
  log(): string;
  /** Process ids of its children (the workers, with --workers above 1). */
  children(): Promise<number[]>;
  /** Ctrl+C; resolves with the exit code. */
  stop(): Promise<number>;
}

const BANNER = /Server running at (http:\/\/[^\s/]+:(\d+)\/)/;

/** Starts `serve` with `args` (a source among them) on 127.0.0.1, port 0. */
export async function startParty(args: string[]): Promise<PartyProcess> {
  const child = program(["serve", ...args, "--host", "127.0.0.1", "--port", "0"]).spawn();
  let out = "";
  let err = "";
  const read = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) add(text);
  };
  const reading = Promise.all([
    read(child.stdout, (t) => out += t),
    read(child.stderr, (t) => err += t),
  ]);
  let exited: Deno.CommandStatus | undefined;
  child.status.then((status) => exited = status);
  await until("the banner", () => BANNER.test(out) || exited !== undefined, {
    ms: 30_000,
    seen: () => `stdout:\n${out}\nstderr:\n${err}`,
  });
  const match = BANNER.exec(out);
  if (!match) throw new Error(`sendspin serve exited (${exited?.code}) before its banner: ${err}`);
  return {
    url: match[1],
    port: Number(match[2]),
    child,
    log: () => err,
    children: () => childrenOf(child.pid),
    stop: async () => {
      if (!exited) child.kill("SIGINT");
      const { code } = await child.status;
      await reading;
      return code;
    },
  };
}

export async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await new Deno.Command("pgrep", { args: ["-P", String(pid)] }).output();
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).map(Number);
}
