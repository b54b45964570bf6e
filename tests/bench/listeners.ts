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
import { sampleTree, type TreeSample } from "./process_tree.ts";
import { drain, freePort, startBaseline, startSendspin, stop } from "./server_process.ts";
import { median } from "./stats.ts";

const ROOT = new URL("../../", import.meta.url);
const here = (file: string) => new URL(file, import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
