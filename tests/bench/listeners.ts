/**
 * The listener benchmark (`deno task bench`): for each codec, worker count and listener
 * count, the real server (`sendspin serve --demo`, run as the `sendspin` task runs it) and
 * then the baseline broadcaster each get the same load from the load generator, on loopback.
 * Server CPU and memory are read from /proc for every process of the server; sync quality
 * comes from the generator. Prints a table as it goes and writes all numbers as JSON.
 *
 *   deno task bench [--listeners 100,500,1000,2000] [--workers 1,2] [--codecs pcm,flac,opus]
 *                   [--dialects legacy] [--suite 25519_ChaChaPoly_SHA256] [--join-rate 500]
 *                   [--seconds 10] [--repeat 1] [--json tests/artifacts/bench-listeners.json]
 *
 * With --repeat N every number reported is the median of N alternating runs.
 *
 * `--cpu-quota 0.3` runs only our server (no floors), all its processes together capped
 * to 0.3 of a core (a cgroup; root): the stand-in for a slower machine (BENCHMARKS.md, Pi 4).
 *
 * `--dialects legacy,encrypted` measures our server a second time in each case, right after
 * the plaintext run and with the same load, with encrypted listeners (every one its own
 * handshake and ciphertext, `--suite`). The floor speaks only the plaintext dialect and stays
 * as it is; the encrypted row adds its CPU per listener over the plaintext row's, the median
 * and (min-max) of the ratios of each repeat's pair. The JSON holds every run too.
 */
import { cpus as osCpus } from "node:os";
import { parseArgs } from "node:util";
import { sampleTree, type TreeSample } from "./process_tree.ts";
import { cpuQuota, drain, freePort, startBaseline, startSendspin, stop } from "./server_process.ts";
import { median } from "./stats.ts";

const ROOT = new URL("../../", import.meta.url);
const here = (file: string) => new URL(file, import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What load_generator.ts prints when it is done (one JSON line). */
export interface GeneratorResult {
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
  /** Encrypted listeners: connect to server/hello. */
  handshakeMs?: { p50: number; p99: number; max: number };
  /** Encrypted listeners: the generator's own load (its crypto is pure JS). */
  generator?: {
    joinedAfterS: number;
    joinCpuPercent: number;
    loopLagMs: { joinMax: number; windowP99: number; windowMax: number };
  };
}

type DialectName = "legacy" | "encrypted";
const SUITES = ["25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA256"];

interface Case {
  /** Ours, the per-chunk floor, or the batched floor (baseline_server.ts). */
  server: "sendspin" | "baseline" | "batched";
  codec: string;
  workers: number;
  listeners: number;
  /** The listeners' dialect (the floor speaks only legacy). */
  dialect: DialectName;
  /** Encrypted: the Noise suite every listener asks for. */
  suite?: string;
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

async function measure(
  c: Case,
  seconds: number,
  joinRate: string,
  cgroup?: string,
): Promise<Measured> {
  const port = freePort();
  const started = c.server === "sendspin"
    ? await startSendspin({ ...c, cgroup }, port)
    : await startBaseline({ ...c, batched: c.server === "batched" }, port);
  const roots = started.processes.map((p) => p.pid);
  try {
    await sleep(1_000);
    const idle = sampleTree(roots);
    const generator = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--allow-net=127.0.0.1", here("load_generator.ts")],
        ...["--url", `ws://127.0.0.1:${port}/sendspin`, "--listeners", String(c.listeners)],
        ...["--codec", c.codec, "--seconds", String(seconds)],
        ...(joinRate === "500" ? [] : ["--join-rate", joinRate]),
        ...(c.dialect === "encrypted" ? ["--dialect", "encrypted", "--suite", c.suite!] : []),
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
  "dialect",
  "CPU %",
  "CPU µs/s per listener",
  "vs baseline",
  "vs batched floor",
  "vs plaintext",
  "RSS KiB per listener",
  "lead p1 ms",
  "lead p50 ms",
  "late",
  "lost",
  "time p50 ms",
  "time p99 ms",
  "first chunk p50 ms",
  "first chunk p99 ms",
  "handshake p99 ms",
  "skew µs",
  "load gen CPU %",
];

/** Encrypted over plaintext CPU per listener: the median and spread of each repeat's pair. */
interface PairRatio {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function pairRatio(encrypted: Measured[], plaintext: Measured[]): PairRatio {
  const runs = encrypted.map((e, i) =>
    round(e.cpuUsPerListenerSecond / plaintext[i].cpuUsPerListenerSecond, 2)
  );
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}

function row(m: Measured, baseline?: Measured, plaintext?: PairRatio, batched?: Measured): string {
  const l = m.load;
  const ratio = baseline ? (m.cpuUsPerListenerSecond / baseline.cpuUsPerListenerSecond) : NaN;
  const batchedRatio = batched
    ? (m.cpuUsPerListenerSecond / batched.cpuUsPerListenerSecond).toFixed(2)
    : "";
  const spread = plaintext && plaintext.runs.length > 1
    ? ` (${plaintext.min.toFixed(2)}-${plaintext.max.toFixed(2)})`
    : "";
  const closed = Object.values(l.closedEarly).reduce((a, b) => a + b, 0);
  const cells = [
    m.codec,
    m.workers,
    m.listeners + (closed ? ` (${closed} closed)` : ""),
    m.server,
    m.dialect === "encrypted" ? `encrypted ${m.suite}` : m.dialect,
    m.cpuPercent,
    m.cpuUsPerListenerSecond,
    m.server === "baseline" ? "1.00" : ratio.toFixed(2),
    m.server === "batched" ? "1.00" : batchedRatio,
    plaintext ? plaintext.median.toFixed(2) + spread : "",
    m.rssKiBPerListener,
    l.leadMs.p1,
    l.leadMs.p50,
    l.late,
    l.lost,
    l.timeAnswerMs.p50,
    l.timeAnswerMs.p99,
    l.firstChunkMs.p50,
    l.firstChunkMs.p99,
    l.handshakeMs?.p99 ?? "",
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
      dialects: { type: "string", default: "legacy" },
      suite: { type: "string", default: "25519_ChaChaPoly_SHA256" },
      "join-rate": { type: "string", default: "500" },
      json: { type: "string", default: "tests/artifacts/bench-listeners.json" },
      "cpu-quota": { type: "string" },
    },
  });
  const quota = values["cpu-quota"] ? Number(values["cpu-quota"]) : undefined;
  const cgroup = quota ? cpuQuota(quota) : undefined;
  const list = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const seconds = Number(values.seconds);
  // Plaintext first, so each encrypted run follows the plaintext run it is compared with.
  const dialects = (["legacy", "encrypted"] as const).filter((d) =>
    list(values.dialects!).includes(d)
  );
  const unknown = list(values.dialects!).filter((d) => d !== "legacy" && d !== "encrypted");
  if (unknown.length || !dialects.length) {
    throw new Error(`--dialects takes legacy and/or encrypted, not ${values.dialects}`);
  }
  if (!SUITES.includes(values.suite!)) {
    throw new Error(`--suite must be one of ${SUITES.join(", ")}, not ${values.suite}`);
  }
  const suite = values.suite!;
  const cpus = osCpus()[0]?.model ?? "unknown CPU";
  console.log(
    `Listener benchmark: ${navigator.hardwareConcurrency} cores (${cpus}), Deno ${Deno.version.deno}, ` +
      `${seconds} s measured per run, median of ${values.repeat} run(s), load generator on the same machine.`,
  );
  if (quota) console.log(`Our server only, all its processes capped to ${quota} of a core.`);
  if (dialects.includes("encrypted")) {
    console.log(
      `Encrypted listeners: suite ${suite}, each run right after the plaintext one; ` +
        `vs plaintext = encrypted / plaintext CPU per listener, median (min-max) of the pairs.`,
    );
  }
  console.log(`| ${COLUMNS.join(" | ")} |`);
  console.log(`|${COLUMNS.map(() => "---").join("|")}|`);
  const repeat = Number(values.repeat);
  const results: (Measured & { vsPlaintext?: PairRatio })[] = [];
  const everyRun: Measured[] = [];
  const floorRatios: string[] = [];
  for (const codec of list(values.codecs!)) {
    for (const workers of list(values.workers!).map(Number)) {
      for (const listeners of list(values.listeners!).map(Number)) {
        // Baseline and ours alternate, so a slow spell of the machine hits both; an encrypted
        // run follows its plaintext one at once.
        const runs: { base: Measured; batched: Measured; ours: Measured[] }[] = [];
        if (cgroup) {
          // Only ours, capped: how many guests a slower machine holds without a late chunk.
          for (let i = 0; i < repeat; i++) {
            const c: Case = { server: "sendspin", codec, workers, listeners, dialect: "legacy" };
            const ours = await measure(c, seconds, values["join-rate"]!, cgroup);
            console.log(row(ours));
            results.push(ours);
            everyRun.push(ours);
          }
          continue;
        }
        for (let i = 0; i < repeat; i++) {
          const base = await measure(
            { server: "baseline", codec, workers, listeners, dialect: "legacy" },
            seconds,
            values["join-rate"]!,
          );
          const batched = await measure(
            { server: "batched", codec, workers, listeners, dialect: "legacy" },
            seconds,
            values["join-rate"]!,
          );
          const ours: Measured[] = [];
          for (const dialect of dialects) {
            const c: Case = { server: "sendspin", codec, workers, listeners, dialect };
            if (dialect === "encrypted") c.suite = suite;
            ours.push(await measure(c, seconds, values["join-rate"]!));
          }
          runs.push({ base, batched, ours });
          everyRun.push(base, batched, ...ours);
        }
        const base = medianRun(runs.map((r) => r.base));
        console.log(row(base));
        results.push(base);
        const batched = medianRun(runs.map((r) => r.batched));
        console.log(row(batched, base));
        results.push(batched);
        const plaintextRuns = dialects[0] === "legacy" ? runs.map((r) => r.ours[0]) : undefined;
        dialects.forEach((dialect, d) => {
          const dialectRuns = runs.map((r) => r.ours[d]);
          const ours = medianRun(dialectRuns);
          const vsPlaintext = dialect === "encrypted" && plaintextRuns
            ? pairRatio(dialectRuns, plaintextRuns)
            : undefined;
          console.log(row(ours, base, vsPlaintext, batched));
          if (repeat > 1) {
            const spread = (r: PairRatio) =>
              `${r.median.toFixed(2)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;
            floorRatios.push(
              `${codec} ${workers}w ${listeners} ${dialect}: ours / per-chunk floor ${
                spread(pairRatio(dialectRuns, runs.map((r) => r.base)))
              }, ours / batched floor ${
                spread(pairRatio(dialectRuns, runs.map((r) => r.batched)))
              }`,
            );
          }
          results.push(vsPlaintext ? { ...ours, vsPlaintext } : ours);
        });
      }
    }
  }
  if (floorRatios.length) {
    console.log("\nCPU per listener over each floor, median (min-max) of the repeats' pairs:");
    floorRatios.forEach((line) => console.log(`- ${line}`));
  }
  printRuns(everyRun);
  const path = new URL(values.json!, ROOT);
  Deno.mkdirSync(new URL(".", path), { recursive: true });
  Deno.writeTextFileSync(
    path,
    JSON.stringify(
      { machine: { cores: navigator.hardwareConcurrency, cpu: cpus }, results, runs: everyRun },
      null,
      1,
    ),
  );
  console.log(`JSON: ${path.pathname}`);
}

/** Every run's CPU per listener, in the order they ran (the table shows medians). */
function printRuns(runs: Measured[]) {
  console.log("\nEvery run, in order (CPU µs/s per listener; RSS KiB per listener):");
  console.log(
    "| codec | workers | listeners | server | dialect | CPU µs/s | RSS KiB | time p99 ms | first chunk p99 ms | handshake p99 ms | late | lost | load gen CPU % | all joined after s | load gen CPU % joining | load gen loop lag ms: joining max, window p99 / max |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const m of runs) {
    const cells = [
      m.codec,
      m.workers,
      m.listeners,
      m.server,
      m.dialect === "encrypted" ? `encrypted ${m.suite}` : m.dialect,
      m.cpuUsPerListenerSecond,
      m.rssKiBPerListener,
      m.load.timeAnswerMs.p99,
      m.load.firstChunkMs.p99,
      m.load.handshakeMs?.p99 ?? "",
      m.load.late,
      m.load.lost,
      m.generatorCpuPercent,
      m.load.generator?.joinedAfterS ?? "",
      m.load.generator?.joinCpuPercent ?? "",
      m.load.generator
        ? `${m.load.generator.loopLagMs.joinMax}, ${m.load.generator.loopLagMs.windowP99} / ${m.load.generator.loopLagMs.windowMax}`
        : "",
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`bench: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  });
}
