/**
 * The servers a benchmark measures, as processes of their own: ours exactly as the
 * `sendspin` task runs it, or the baseline broadcaster. Their output is drained (a full pipe
 * would stall them) and its tail kept for error messages.
 */
import { taskArgs } from "../support/program.ts";

const ROOT = new URL("../../", import.meta.url);
const here = (file: string) => new URL(file, import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Keeps reading a child's output so it never blocks on a full pipe; keeps the tail. */
export function drain(stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void) {
  const state = { tail: "" };
  (async () => {
    let pending = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      state.tail = (state.tail + text).slice(-2000);
      if (!onLine) continue;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      lines.forEach(onLine);
    }
  })().catch(() => {});
  return state;
}

export interface Started {
  processes: Deno.ChildProcess[];
  errors: { tail: string }[];
}

/**
 * A cgroup (v1 `cpu`) that caps its processes to `cores` of CPU together: the benchmark's
 * stand-in for a slower machine. Needs root; returns the folder to move processes into.
 */
export function cpuQuota(cores: number): string {
  const folder = "/sys/fs/cgroup/cpu/sendspin_bench";
  Deno.mkdirSync(folder, { recursive: true });
  Deno.writeTextFileSync(`${folder}/cpu.cfs_period_us`, "100000");
  Deno.writeTextFileSync(`${folder}/cpu.cfs_quota_us`, String(Math.round(cores * 100_000)));
  return folder;
}

export async function startSendspin(
  c: { workers: number; cgroup?: string },
  port: number,
): Promise<Started> {
  const home = Deno.makeTempDirSync();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...taskArgs("sendspin", home),
      ...["serve", "--demo", "--host", "127.0.0.1", "--port", String(port)],
      ...["--workers", String(c.workers), "--max-clients", "100000"],
    ],
    cwd: ROOT,
    env: { HOME: home },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // At once, before it starts its workers: they are born in the same cgroup.
  if (c.cgroup) Deno.writeTextFileSync(`${c.cgroup}/cgroup.procs`, String(child.pid));
  drain(child.stdout);
  const errors = [drain(child.stderr)];
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    try {
      const status = await (await fetch(`http://127.0.0.1:${port}/api/status`)).json();
      if (status.workers.length === c.workers) return { processes: [child], errors };
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`sendspin did not start: ${errors[0].tail}`);
}

export async function startBaseline(
  c: { workers: number; codec: string; batched?: boolean },
  port: number,
): Promise<Started> {
  const processes: Deno.ChildProcess[] = [];
  const errors: { tail: string }[] = [];
  for (let i = 0; i < c.workers; i++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--unstable-net", "--v8-flags=--expose-gc", "--allow-net", "--allow-read"],
        "--allow-env",
        ...[here("baseline_server.ts"), "--port", String(port), "--codec", c.codec],
        ...(c.workers > 1 ? ["--reuse-port"] : []),
        ...(c.batched ? ["--batched"] : []),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    errors.push(drain(child.stderr));
    const listening = Promise.withResolvers<void>();
    drain(child.stdout, (line) => line.startsWith("listening") && listening.resolve());
    processes.push(child);
    await Promise.race([
      listening.promise,
      child.status.then(() => {
        throw new Error(`baseline did not start: ${errors.at(-1)!.tail}`);
      }),
    ]);
  }
  return { processes, errors };
}

export async function stop(started: Started) {
  for (const child of started.processes) {
    try {
      child.kill("SIGINT");
    } catch { /* gone */ }
  }
  const timeout = sleep(5_000).then(() => "timeout");
  for (const child of started.processes) {
    if (await Promise.race([child.status, timeout]) === "timeout") child.kill("SIGKILL");
  }
}
