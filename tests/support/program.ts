/**
 * Runs the program as a user would: the `sendspin` task's own command line from deno.json
 * (same permissions), with a HOME of its own so no real settings file leaks in.
 */
const ROOT = new URL("../../", import.meta.url);

/** The task's words after `deno`, with $HOME expanded as `deno task` does (to `home`). */
export function taskArgs(task = "sendspin", home = Deno.env.get("HOME") ?? ""): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const entry = config.tasks[task];
  const words = String(typeof entry === "string" ? entry : entry.command).split(/\s+/);
  if (words[0] !== "deno") throw new Error(`task ${task} does not start with deno`);
  return words.slice(1).map((word) => word.replaceAll("$HOME", home));
}

export interface ProgramOptions {
  home?: string;
  /** "piped" to type into the operator's console; default "null". */
  stdin?: "piped" | "null";
  /** Replaces PATH (e.g. to hide ffmpeg). */
  path?: string;
  /** Runs it inside this network namespace (`ip netns exec`). */
  netns?: string;
}

export function program(args: string[], options: ProgramOptions = {}): Deno.Command {
  const env: Record<string, string> = { HOME: options.home ?? Deno.makeTempDirSync() };
  if (options.path !== undefined) env.PATH = options.path;
  const words = [...taskArgs("sendspin", env.HOME), ...args];
  // `ip netns exec` execs the program in place: signals and exit codes are its own.
  const inNamespace = options.netns ? ["netns", "exec", options.netns, Deno.execPath()] : [];
  return new Deno.Command(options.netns ? "ip" : Deno.execPath(), {
    args: [...inNamespace, ...words],
    cwd: ROOT,
    env,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

export async function runProgram(args: string[], options: ProgramOptions = {}) {
  const { code, stdout, stderr } = await program(args, options).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** A directory on PATH that has no ffmpeg (only the shell basics the program needs none of). */
export function pathWithoutFfmpeg(): string {
  return Deno.makeTempDirSync();
}
