/**
 * The listener benchmark (`deno task bench`): for each codec, worker count and listener
 * count, the real server (`sendspin serve --demo`, run as the `sendspin` task runs it) and
 * then the baseline broadcaster each get the same load from the load generator, on loopback.
 * Server CPU and memory are read from /proc for every process of the server; sync quality
 * comes from the generator. Prints a table as it goes and writes all numbers as JSON.
 *
 *   deno task bench [--listeners 100,500,1000,2000] [--workers 1,2] [--codecs pcm,flac,opus]
 *                   [--seconds 10] [--repeat 1] [--json tests/artifacts/bench-listeners.json]
 *
 * With --repeat N every number reported is the median of N alternating runs.
 */
import { cpus as osCpus } from "node:os";
import { parseArgs } from "node:util";
import { taskArgs } from "../support/program.ts";
import { sampleTree, type TreeSample } from "./process_tree.ts";
import { median } from "./stats.ts";

const ROOT = new URL("../../", import.meta.url);
const here = (file: string) => new URL(file, import.meta.url).pathname;

interface GeneratorResult {
  listeners: number;
  withAudio: number;
  closedEarly: Record<string, number>;
  chunks: number;
  expectedChunks: number;
  late: number;
  lost: number;
  leadMs: { p1: number; p50: number };
  timeAnswerMs: { probes: number; timeouts: number; p50: number; p99: number; max: number };
  firstChunkMs: { p50: number; p99: number; max: number };
  clockSkewUs: number | null;
}

interface Case {
  server: "sendspin" | "baseline";
  codec: string;
  workers: number;
  listeners: number;
}

interface Measured extends Case {
  cpuPercent: number;
  cpuUsPerListenerSecond: number;
  rssIdleMiB: number;
  rssKiBPerListener: number;
  /** CPU % of each process of the server (coordinator first) in the window. */
  cpuPercentByProcess: number[];
  /** Each process of the server (coordinator first), idle and at the end of the window. */
  rssMiBByProcess: { idle: number[]; loaded: number[] };
  generatorCpuPercent: number;
  load: GeneratorResult;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Keeps reading a child's output so it never blocks on a full pipe; keeps the tail. */
function drain(stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void) {
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

interface Started {
  processes: Deno.ChildProcess[];
  errors: { tail: string }[];
}

async function startSendspin(c: Case, port: number): Promise<Started> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...taskArgs(),
      ...["serve", "--demo", "--host", "127.0.0.1", "--port", String(port)],
      ...["--workers", String(c.workers)],
    ],
    cwd: ROOT,
    env: { HOME: Deno.makeTempDirSync() },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
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

async function startBaseline(c: Case, port: number): Promise<Started> {
  const processes: Deno.ChildProcess[] = [];
  const errors: { tail: string }[] = [];
  for (let i = 0; i < c.workers; i++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--unstable-net", "--v8-flags=--expose-gc", "--allow-net", "--allow-read"],
        "--allow-env",
        ...[here("baseline_server.ts"), "--port", String(port), "--codec", c.codec],
        ...(c.workers > 1 ? ["--reuse-port"] : []),
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

async function stop(started: Started) {
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

async function measure(c: Case, seconds: number): Promise<Measured> {
  const port = freePort();
  const started = c.server === "sendspin"
    ? await startSendspin(c, port)
    : await startBaseline(c, port);
  const roots = started.processes.map((p) => p.pid);
  try {
    await sleep(1_000);
    const idle = sampleTree(roots);
    const generator = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--allow-net=127.0.0.1", here("load_generator.ts")],
        ...["--url", `ws://127.0.0.1:${port}/sendspin`, "--listeners", String(c.listeners)],
        ...["--codec", c.codec, "--seconds", String(seconds)],
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const generatorErrors = drain(generator.stderr);
    let before: [TreeSample, TreeSample, number] | undefined;
    let after: [TreeSample, TreeSample, number] | undefined;
    let result: GeneratorResult | undefined;
    const sample = (): [TreeSample, TreeSample, number] => [
      sampleTree(roots),
      sampleTree([generator.pid]),
      performance.now() / 1000,
    ];
    drain(generator.stdout, (line) => {
      const message = JSON.parse(line);
      if (message.event === "measuring") before = sample();
      else if (message.event === "measured") after = sample();
      else if (message.event === "result") result = message;
    });
    const { code } = await generator.status;
    await sleep(50);
    if (code !== 0 || !before || !after || !result) {
      throw new Error(`load generator failed (exit ${code}): ${generatorErrors.tail}`);
    }
    const [s0, g0, t0] = before;
    const [s1, g1, t1] = after;
    const cpu = (s1.cpuSeconds - s0.cpuSeconds) / (t1 - t0);
    return {
      ...c,
      cpuPercent: round(cpu * 100, 1),
      cpuUsPerListenerSecond: round((cpu / c.listeners) * 1e6, 1),
      rssIdleMiB: round(idle.rssBytes / 2 ** 20, 1),
      rssKiBPerListener: round((s1.rssBytes - idle.rssBytes) / c.listeners / 1024, 1),
      cpuPercentByProcess: s1.cpuByPid.map((cpu, i) =>
        round(((cpu - (s0.cpuByPid[i] ?? 0)) / (t1 - t0)) * 100, 1)
      ),
      rssMiBByProcess: {
        idle: idle.rssByPid.map((b) => round(b / 2 ** 20, 1)),
        loaded: s1.rssByPid.map((b) => round(b / 2 ** 20, 1)),
      },
      generatorCpuPercent: round(((g1.cpuSeconds - g0.cpuSeconds) / (t1 - t0)) * 100, 1),
      load: result,
    };
  } finally {
    await stop(started);
  }
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Every number is the median of the runs' (lists and text from the first run). */
function medianRun<T>(runs: T[]): T {
  const first = runs[0] as unknown;
  if (typeof first === "number") return median(runs as number[]) as T;
  if (typeof first !== "object" || first === null || Array.isArray(first)) return runs[0];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(first)) {
    out[key] = medianRun(runs.map((run) => (run as Record<string, unknown>)[key]));
  }
  return out as T;
}

const COLUMNS = [
  "codec",
  "workers",
  "listeners",
  "server",
  "CPU %",
  "CPU µs/s per listener",
  "vs baseline",
  "RSS KiB per listener",
  "lead p1 ms",
  "lead p50 ms",
  "late",
  "lost",
  "time p50 ms",
  "time p99 ms",
  "first chunk p50 ms",
  "first chunk p99 ms",
  "skew µs",
  "load gen CPU %",
];

function row(m: Measured, baseline?: Measured): string {
  const l = m.load;
  const ratio = baseline ? (m.cpuUsPerListenerSecond / baseline.cpuUsPerListenerSecond) : NaN;
  const closed = Object.values(l.closedEarly).reduce((a, b) => a + b, 0);
  const cells = [
    m.codec,
    m.workers,
    m.listeners + (closed ? ` (${closed} closed)` : ""),
    m.server,
    m.cpuPercent,
    m.cpuUsPerListenerSecond,
    m.server === "baseline" ? "1.00" : ratio.toFixed(2),
    m.rssKiBPerListener,
    l.leadMs.p1,
    l.leadMs.p50,
    l.late,
    l.lost,
    l.timeAnswerMs.p50,
    l.timeAnswerMs.p99,
    l.firstChunkMs.p50,
    l.firstChunkMs.p99,
    l.clockSkewUs ?? "",
    m.generatorCpuPercent,
  ];
  return `| ${cells.join(" | ")} |`;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      listeners: { type: "string", default: "100,500,1000,2000" },
      workers: { type: "string", default: "1,2" },
      codecs: { type: "string", default: "pcm,flac,opus" },
      seconds: { type: "string", default: "10" },
      repeat: { type: "string", default: "1" },
      json: { type: "string", default: "tests/artifacts/bench-listeners.json" },
    },
  });
  const list = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const seconds = Number(values.seconds);
  const cpus = osCpus()[0]?.model ?? "unknown CPU";
  console.log(
    `Listener benchmark: ${navigator.hardwareConcurrency} cores (${cpus}), Deno ${Deno.version.deno}, ` +
      `${seconds} s measured per run, median of ${values.repeat} run(s), load generator on the same machine.`,
  );
  console.log(`| ${COLUMNS.join(" | ")} |`);
  console.log(`|${COLUMNS.map(() => "---").join("|")}|`);
  const repeat = Number(values.repeat);
  const results: Measured[] = [];
  for (const codec of list(values.codecs!)) {
    for (const workers of list(values.workers!).map(Number)) {
      for (const listeners of list(values.listeners!).map(Number)) {
        // Baseline and ours alternate, so a slow spell of the machine hits both.
        const runs: { base: Measured; ours: Measured }[] = [];
        for (let i = 0; i < repeat; i++) {
          const base = await measure({ server: "baseline", codec, workers, listeners }, seconds);
          const ours = await measure({ server: "sendspin", codec, workers, listeners }, seconds);
          runs.push({ base, ours });
        }
        const base = medianRun(runs.map((r) => r.base));
        const ours = medianRun(runs.map((r) => r.ours));
        console.log(row(base));
        console.log(row(ours, base));
        results.push(base, ours);
      }
    }
  }
  const path = new URL(values.json!, ROOT);
  Deno.mkdirSync(new URL(".", path), { recursive: true });
  Deno.writeTextFileSync(
    path,
    JSON.stringify(
      { machine: { cores: navigator.hardwareConcurrency, cpu: cpus }, results },
      null,
      1,
    ),
  );
  console.log(`JSON: ${path.pathname}`);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`bench: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  });
}
