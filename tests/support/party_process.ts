/**
 * `sendspin serve` as a real process, started as a user starts it (the `sendspin` task's
 * command line) on a port the OS picks: the port is read from the banner, the log is kept,
 * and its worker processes can be listed.
 */
import { program, type ProgramOptions } from "./program.ts";
import { until } from "./until.ts";

export interface PartyProcess {
  url: string;
  port: number;
  child: Deno.ChildProcess;
  /** Everything it wrote to stderr so far. */
  log(): string;
  /** Everything it wrote to stdout so far (the banner). */
  output(): string;
  /** Process ids of its children (the workers, with --workers above 1). */
  children(): Promise<number[]>;
  /** Types a line into its console (started with `stdin: "piped"`). */
  type(line: string): Promise<void>;
  /** Ctrl+C; resolves with the exit code. */
  stop(): Promise<number>;
}

const BANNER = /Server running at (http:\/\/[^\s/]+:(\d+)\/)/;

/** Starts `serve` with `args` (a source among them) on 127.0.0.1, port 0. */
export function startParty(args: string[], options: ProgramOptions = {}): Promise<PartyProcess> {
  return startRoom(["serve", ...args], options);
}

/** Starts `edge NATS_URL` with `args` on 127.0.0.1, port 0 (it finds the party first). */
export function startEdge(
  natsUrl: string,
  args: string[] = [],
  options: ProgramOptions = {},
): Promise<PartyProcess> {
  return startRoom(["edge", natsUrl, "--no-mdns", ...args], options);
}

async function startRoom(words: string[], options: ProgramOptions): Promise<PartyProcess> {
  const command = [...words, "--host", "127.0.0.1", "--port", "0"];
  const child = program(command, options).spawn();
  const console = options.stdin === "piped" ? child.stdin.getWriter() : undefined;
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
  if (!match) {
    throw new Error(`sendspin ${words[0]} exited (${exited?.code}) before its banner: ${err}`);
  }
  return {
    url: match[1],
    port: Number(match[2]),
    child,
    log: () => err,
    output: () => out,
    children: () => childrenOf(child.pid),
    type: async (line) => {
      if (!console) throw new Error('startParty was not given stdin: "piped"');
      await console.write(new TextEncoder().encode(`${line}\n`));
    },
    stop: async () => {
      if (!exited) child.kill("SIGINT");
      await console?.close().catch(() => {});
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
