/**
 * What edges cost and how well they keep time (`deno task bench:edges`), every process real
 * and on this machine: Debian's `nats-server -js`, the origin (`serve --demo --edges`) and
 * each edge (`sendspin edge`) started as a user starts them, `--workers 1` each (the worker in
 * the process: the listener bench's cheapest shape for a few hundred Opus listeners).
 *
 * Part 1, the origin's CPU. Per repeat, alternating, fresh processes each case:
 *   (c) the origin without --edges, N Opus listeners: the floor;
 *   (a) the origin with --edges and no edge, N listeners on it;
 *   (b) the same with 2 edges, N listeners on each edge and N on the origin.
 * One load generator process (load_generator.ts) per room, started together; the window is the
 * time all of them measure at once (`--settle` s after their joins, about `--seconds` long).
 * Reported in % of one core, from /proc: the origin's process tree (coordinator and its
 * workers), nats-server, each edge, each load generator, and the whole machine (/proc/stat,
 * to tell saturation, ours or another's load), and every second of the run the machine's load.
 * `--stagger S` starts each room's generator S s after the previous one (each settles as much
 * less, so all still measure together). Each generator runs with this file as its --preload
 * (installGapHook): it records every gap a listener sees, so each room's lost chunks are told
 * by when they fell (before, inside or after the window; within 2 s of the listener's own first
 * chunk; room-wide or one listener's). `--cases` picks cases (default c,a,b).
 * If any (b) run finds the machine 90% busy or a
 * late chunk, the `--fallback` size runs as well, in the same way. Before every run it waits
 * (up to `--quiet-wait` s) while others load the machine by more than 15% of a core, and
 * reports that load in the window: a shared machine's numbers say how shared it was.
 *
 * Part 2, the edge's clock. Per run, fresh processes: nats-server, the origin, one edge whose
 * NATS connection goes through a delay relay (tests/support/delay_relay.ts, its own process:
 * netem's "delay 2ms 1ms" in user space) or straight over loopback (the floor), and one Opus
 * listener on each room so the party plays. From `--clock-after` s after the edge's banner,
 * every `--clock-every` s for `--clock-for` s: |edge clock offset - origin clock offset|, each
 * measured from here by clockOffsetUs (the fastest of 60 time probes); both servers share
 * this machine's clock, so that is the edge's true error.
 *
 *   deno task bench:edges [--listeners 500] [--fallback 200] [--repeat 3] [--settle 5]
 *                         [--seconds 20] [--clock-runs 3] [--clock-after 10]
 *                         [--clock-every 5] [--clock-for 60] [--parts cpu,clock]
 *                         [--quiet-wait 20] [--cases c,a,b] [--stagger 0]
 *                         [--json tests/artifacts/edges-DATE.json]
 */
import { cpus as osCpus } from "node:os";
import { parseArgs } from "node:util";
import { childrenOf, sampleTree, type TreeSample } from "./process_tree.ts";
import { drain } from "./server_process.ts";
import { median, percentile } from "./stats.ts";
import type { GeneratorResult } from "./listeners.ts";
import type { Listener, Run } from "./load_generator.ts";
import { type NatsServer, startNatsServer } from "../support/nats_server.ts";
import { type PartyProcess, startEdge, startParty } from "../support/party_process.ts";
import { until } from "../support/until.ts";
import { WsClient } from "../support/ws_client.ts";
import { AUDIO_HEADER_BYTES } from "../../protocol/audio_chunk.ts";

// This file is also each load generator's --preload (installGapHook, below): what it imports
// at the top must neither need more than --allow-net nor run the generator (load_generator.ts
// is its main module), so those two come in when first used.
const roomsSupport = () => import("../rooms/rooms_support.ts");
const status = async (url: string) => (await roomsSupport()).status(url);
const clockOffsetUs = async (url: string) => (await roomsSupport()).clockOffsetUs(url);

const ROOT = new URL("../../", import.meta.url);
const here = (file: string) => new URL(file, import.meta.url).pathname;
const RELAY = new URL("../support/delay_relay.ts", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
/** Every room: one worker, in the process; no mDNS; no cap on listeners. */
const ROOM_ARGS = ["--no-mdns", "--workers", "1", "--max-clients", "100000"];
const CORES = navigator.hardwareConcurrency;
/** Consecutive timestamps step by 60 ms (every codec's unit: load_generator.ts). */
const CHUNK_US = 60_000;
/** This machine's wall clock, ms, as every process here reads it (the generators' too). */
const epochMs = () => performance.timeOrigin + performance.now();
/** At most this long before each run for another's load to calm down (`--quiet-wait` s). */
let quietWaitMs = 20_000;

// ---------------------------------------------------------------- processes

/** Ctrl+C, then SIGKILL if it has not gone within 10 s. */
async function stopRoom(room: PartyProcess | undefined) {
  if (!room) return;
  const timeout = sleep(10_000).then(() => "timeout" as const);
  if (await Promise.race([room.stop(), timeout]) === "timeout") {
    try {
      room.child.kill("SIGKILL");
    } catch { /* gone */ }
    await room.child.status;
  }
}

/** nats-server, and its pid (a new child of ours named nats-server). */
async function startNats(): Promise<{ nats: NatsServer; pid: number }> {
  const before = new Set(childrenOf(Deno.pid));
  const nats = await startNatsServer();
  const pid = childrenOf(Deno.pid).find((p) => !before.has(p) && comm(p) === "nats-server");
  if (!pid) {
    await nats.stop();
    throw new Error("cannot find the nats-server process");
  }
  return { nats, pid };
}

function comm(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "";
  }
}

/**
 * Another's load on this machine (busy time that is not our process tree's) over 2 s, in %
 * of one core; waits while it is above 15%, up to `--quiet-wait` s. Returns how long it waited, s.
 */
async function waitForQuiet(): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < quietWaitMs) {
    const m0 = machineTicks();
    const t0 = sampleTree([Deno.pid]).cpuSeconds;
    await sleep(2_000);
    const m1 = machineTicks();
    const ours = (sampleTree([Deno.pid]).cpuSeconds - t0) * 100 / 2;
    const busy = ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * CORES;
    if (busy - ours < 15) break;
  }
  return round((performance.now() - started) / 1000 - 2, 0);
}

/** Jiffies of the whole machine: busy and all, from the first line of /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const fields = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0); // guest is inside user already
  const idle = fields[3] + fields[4]; // idle + iowait
  return { busy: total - idle, total };
}

// ---------------------------------------------------------------- part 1: CPU

interface Generator {
  child: Deno.ChildProcess;
  /** When it was started, began and ended its window (epoch ms, as lines reached us). */
  at: { startMs: number; measuringMs: number; measuredMs: number };
  measuring: Promise<void>;
  measured: Promise<void>;
  result: Promise<GeneratorResult>;
  gaps: Promise<Gap[]>;
}

function startGenerator(port: number, listeners: number, settle: number, seconds: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--allow-net=127.0.0.1", "--preload", here("edges.ts"), here("load_generator.ts")],
      ...["--url", `ws://127.0.0.1:${port}/sendspin`, "--listeners", String(listeners)],
      ...["--codec", "opus", "--settle", String(settle), "--seconds", String(seconds)],
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const at = { startMs: epochMs(), measuringMs: NaN, measuredMs: NaN };
  const errors = drain(child.stderr);
  const measuring = Promise.withResolvers<void>();
  const measured = Promise.withResolvers<void>();
  const result = Promise.withResolvers<GeneratorResult>();
  const gaps = Promise.withResolvers<Gap[]>();
  drain(child.stdout, (line) => {
    const message = JSON.parse(line);
    if (message.event === "measuring") {
      at.measuringMs = epochMs();
      measuring.resolve();
    } else if (message.event === "measured") {
      at.measuredMs = epochMs();
      measured.resolve();
    } else if (message.event === "result") result.resolve(message);
    else if (message.event === "gaps") gaps.resolve(message.gaps);
  });
  child.status.then(({ code }) => {
    const why = new Error(`load generator exited ${code}: ${errors.tail}`);
    measuring.reject(why);
    measured.reject(why);
    setTimeout(() => {
      result.reject(why); // its last lines may still be on their way
      gaps.reject(why);
    }, 100);
  });
  for (const p of [measuring, measured, result, gaps]) p.promise.catch(() => {});
  return {
    child,
    at,
    measuring: measuring.promise,
    measured: measured.promise,
    result: result.promise,
    gaps: gaps.promise,
  } satisfies Generator;
}

type CaseName = "c" | "a" | "b";
const CASES: Record<CaseName, string> = {
  c: "origin without --edges (floor)",
  a: "origin --edges, 0 edges",
  b: "origin --edges, 2 edges",
};

interface RoomLoad {
  cpuPercent: number;
  /** CPU % of each process of its tree (the first is the room's own). */
  cpuPercentByProcess: number[];
  rssMiB: number;
  generatorCpuPercent: number;
  load: GeneratorResult;
  gaps: GapReport;
}

interface CpuRun {
  case: CaseName;
  listenersPerRoom: number;
  repeat: number;
  windowSeconds: number;
  origin: RoomLoad;
  edges: RoomLoad[];
  natsCpuPercent: number | null;
  natsRssMiB: number | null;
  /** Every process this bench started, together (the bench itself included). */
  benchTreeCpuPercent: number;
  /** The whole machine, in % of one core (100 × cores is all of it). */
  machineBusyPercent: number;
  /** The machine's busy time that was not this bench's (another's tests, say). */
  otherLoadPercent: number;
  /** Before the run, how long we waited for another's load to calm down, s. */
  waitedForQuietS: number;
  saturated: boolean;
  /** Seconds between one room's generator start and the next's (`--stagger`). */
  staggerS: number;
  /** Every second from the first generator's start to the window's end, % of one core. */
  timeline: { atS: number; machine: number; rooms: number[]; nats: number | null }[];
}

async function cpuRun(
  c: CaseName,
  listeners: number,
  repeat: number,
  settle: number,
  seconds: number,
  stagger: number,
): Promise<CpuRun> {
  let nats: { nats: NatsServer; pid: number } | undefined;
  let origin: PartyProcess | undefined;
  const edges: PartyProcess[] = [];
  const generators: Generator[] = [];
  let ticker: ReturnType<typeof setInterval> | undefined;
  const waitedForQuietS = await waitForQuiet();
  try {
    if (c !== "c") nats = await startNats();
    origin = await startParty([
      "--demo",
      ...ROOM_ARGS,
      ...(nats ? ["--edges", nats.nats.url] : []),
    ]);
    if (c === "b") {
      edges.push(...await Promise.all([0, 1].map(() => startEdge(nats!.nats.url, ROOM_ARGS))));
      // Both edges are rooms of the party before a listener joins.
      await until("the origin to count 2 edges", async () => {
        const rooms = (await status(origin!.url)).rooms as unknown[] | undefined;
        return (rooms?.length ?? 0) >= 3;
      }, 15_000);
    }
    await sleep(1_000);
    const rooms = [origin, ...edges];
    // Staggered, room i's generator starts i × stagger s after the first and settles as much
    // less: every generator still measures at the same time, once all have joined.
    const t0Ms = epochMs();
    const timeline: CpuRun["timeline"] = [];
    let last = { rooms: rooms.map((room) => sampleTree([room.child.pid]).cpuSeconds), nats: 0 };
    last.nats = nats ? sampleTree([nats.pid]).cpuSeconds : 0;
    let lastMachine = machineTicks();
    let lastAt = performance.now();
    ticker = setInterval(() => {
      const now = performance.now();
      const dt = (now - lastAt) / 1000;
      const m = machineTicks();
      const next = {
        rooms: rooms.map((room) => sampleTree([room.child.pid]).cpuSeconds),
        nats: nats ? sampleTree([nats.pid]).cpuSeconds : 0,
      };
      timeline.push({
        atS: round((epochMs() - t0Ms) / 1000, 1),
        machine: round(((m.busy - lastMachine.busy) / (m.total - lastMachine.total)) * 100 * CORES),
        rooms: next.rooms.map((cpu, i) => round(((cpu - last.rooms[i]) / dt) * 100)),
        nats: nats ? round(((next.nats - last.nats) / dt) * 100) : null,
      });
      last = next;
      lastMachine = m;
      lastAt = now;
    }, 1_000);
    for (let i = 0; i < rooms.length; i++) {
      if (i > 0 && stagger > 0) await sleep(t0Ms + i * stagger * 1000 - epochMs());
      const ownSettle = settle + (rooms.length - 1 - i) * stagger;
      generators.push(startGenerator(rooms[i].port, listeners, ownSettle, seconds));
    }
    const sample = () => ({
      rooms: rooms.map((room) => sampleTree([room.child.pid])),
      nats: nats ? sampleTree([nats.pid]) : undefined,
      generators: generators.map((g) => sampleTree([g.child.pid])),
      bench: sampleTree([Deno.pid]),
      machine: machineTicks(),
      at: performance.now() / 1000,
    });
    await Promise.all(generators.map((g) => g.measuring));
    const s0 = sample();
    await Promise.race(generators.map((g) => g.measured));
    const s1 = sample();
    const windowMs: [number, number] = [
      performance.timeOrigin + s0.at * 1000,
      performance.timeOrigin + s1.at * 1000,
    ];
    clearInterval(ticker);
    const results = await Promise.all(generators.map((g) => g.result));
    const gaps = await Promise.all(generators.map((g) => g.gaps));
    await Promise.all(generators.map((g) => g.child.status));
    const dt = s1.at - s0.at;
    const pct = (a: TreeSample, b: TreeSample) => round(((b.cpuSeconds - a.cpuSeconds) / dt) * 100);
    const byProcess = (a: TreeSample, b: TreeSample) =>
      b.cpuByPid.map((cpu, i) => {
        const j = a.pids.indexOf(b.pids[i]);
        return round(((cpu - (j >= 0 ? a.cpuByPid[j] : 0)) / dt) * 100);
      });
    const roomLoad = (i: number): RoomLoad => ({
      cpuPercent: pct(s0.rooms[i], s1.rooms[i]),
      cpuPercentByProcess: byProcess(s0.rooms[i], s1.rooms[i]),
      rssMiB: round(s1.rooms[i].rssBytes / 2 ** 20),
      generatorCpuPercent: pct(s0.generators[i], s1.generators[i]),
      load: results[i],
      gaps: gapReport(gaps[i], listeners, t0Ms, windowMs, generators[i].at),
    });
    const machine = s1.machine.total - s0.machine.total;
    const machineBusyPercent = round(
      ((s1.machine.busy - s0.machine.busy) / machine) * 100 * CORES,
    );
    const late = results.reduce((sum, r) => sum + r.late, 0);
    const benchTreeCpuPercent = pct(s0.bench, s1.bench);
    return {
      case: c,
      listenersPerRoom: listeners,
      repeat,
      windowSeconds: round(dt, 2),
      origin: roomLoad(0),
      edges: edges.map((_, i) => roomLoad(i + 1)),
      natsCpuPercent: nats ? pct(s0.nats!, s1.nats!) : null,
      natsRssMiB: nats ? round(s1.nats!.rssBytes / 2 ** 20) : null,
      benchTreeCpuPercent,
      machineBusyPercent,
      otherLoadPercent: round(Math.max(0, machineBusyPercent - benchTreeCpuPercent)),
      waitedForQuietS,
      saturated: machineBusyPercent >= 0.9 * 100 * CORES || late > 0,
      staggerS: stagger,
      timeline,
    };
  } finally {
    clearInterval(ticker);
    for (const g of generators) {
      try {
        g.child.kill("SIGKILL");
      } catch { /* it exited */ }
    }
    await Promise.all(edges.map(stopRoom));
    await stopRoom(origin);
    await nats?.nats.stop();
  }
}

interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function spread(runs: number[]): Spread {
  return {
    median: round(median(runs), 2),
    min: Math.min(...runs),
    max: Math.max(...runs),
    runs,
  };
}

const show = (s: Spread, digits = 1) =>
  s.runs.length
    ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`
    : "";

interface CpuRow {
  case: CaseName;
  label: string;
  listenersPerRoom: number;
  originCpuPercent: Spread;
  natsCpuPercent: Spread;
  edgeCpuPercent: Spread[];
  originLate: Spread;
  originLost: Spread;
  edgeLate: Spread;
  edgeLost: Spread;
  /** The lost chunks by when they were: before the common window, or inside it. */
  originLostBeforeWindow: Spread;
  originLostInWindow: Spread;
  edgeLostBeforeWindow: Spread;
  edgeLostInWindow: Spread;
  originTimeP99Ms: Spread;
  generatorCpuPercent: Spread;
  machineBusyPercent: Spread;
  otherLoadPercent: Spread;
  saturatedRuns: number;
}

function cpuRow(c: CaseName, runs: CpuRun[]): CpuRow {
  const edgeSum = (r: CpuRun, f: (l: RoomLoad) => number) =>
    r.edges.reduce((sum, l) => sum + f(l), 0);
  return {
    case: c,
    label: CASES[c],
    listenersPerRoom: runs[0].listenersPerRoom,
    originCpuPercent: spread(runs.map((r) => r.origin.cpuPercent)),
    natsCpuPercent: spread(runs.flatMap((r) => r.natsCpuPercent ?? [])),
    edgeCpuPercent: runs[0].edges.map((_, i) => spread(runs.map((r) => r.edges[i].cpuPercent))),
    originLate: spread(runs.map((r) => r.origin.load.late)),
    originLost: spread(runs.map((r) => r.origin.load.lost)),
    edgeLate: spread(runs.map((r) => edgeSum(r, (l) => l.load.late))),
    edgeLost: spread(runs.map((r) => edgeSum(r, (l) => l.load.lost))),
    originLostBeforeWindow: spread(runs.map((r) => r.origin.gaps.lostBeforeWindow)),
    originLostInWindow: spread(runs.map((r) => r.origin.gaps.lostInWindow)),
    edgeLostBeforeWindow: spread(runs.map((r) => edgeSum(r, (l) => l.gaps.lostBeforeWindow))),
    edgeLostInWindow: spread(runs.map((r) => edgeSum(r, (l) => l.gaps.lostInWindow))),
    originTimeP99Ms: spread(runs.map((r) => r.origin.load.timeAnswerMs.p99)),
    generatorCpuPercent: spread(
      runs.map((r) =>
        round(r.origin.generatorCpuPercent + edgeSum(r, (l) => l.generatorCpuPercent))
      ),
    ),
    machineBusyPercent: spread(runs.map((r) => r.machineBusyPercent)),
    otherLoadPercent: spread(runs.map((r) => r.otherLoadPercent)),
    saturatedRuns: runs.filter((r) => r.saturated).length,
  };
}

/** One ratio per repeat (numerator and denominator of the same repeat), and their spread. */
function ratio(top: CpuRun[], bottom: CpuRun[]): Spread {
  return spread(top.map((t, i) => round(t.origin.cpuPercent / bottom[i].origin.cpuPercent, 2)));
}

async function cpuSize(
  listeners: number,
  repeat: number,
  settle: number,
  seconds: number,
  cases: CaseName[],
  stagger: number,
): Promise<{ rows: CpuRow[]; ratios: Record<string, Spread>; runs: CpuRun[] }> {
  const runs: Record<CaseName, CpuRun[]> = { c: [], a: [], b: [] };
  console.log(
    `\n${listeners} Opus listeners per room, run by run (CPU in % of one core, ` +
      `${settle} s settle, ~${seconds} s window, generators ${stagger} s apart):`,
  );
  console.log(
    "| repeat | case | origin CPU % | nats CPU % | edges CPU % | late o/e | lost o/e | " +
      "lost before window o/e | lost in window o/e | " +
      "origin time p99 ms | load gens CPU % | bench tree CPU % | machine busy % | " +
      "others' load % | waited for quiet s | window s |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (let i = 1; i <= repeat; i++) {
    for (const c of cases) {
      const r = await cpuRun(c, listeners, i, settle, seconds, stagger);
      runs[c].push(r);
      const edgeLate = r.edges.map((e) => e.load.late).join("+") || "-";
      const edgeLost = r.edges.map((e) => e.load.lost).join("+") || "-";
      const gens = [r.origin, ...r.edges].map((l) => l.generatorCpuPercent).join("+");
      console.log(
        `| ${i} | ${c}: ${CASES[c]} | ${r.origin.cpuPercent} | ${r.natsCpuPercent ?? "-"} | ` +
          `${
            r.edges.map((e) => e.cpuPercent).join(", ") || "-"
          } | ${r.origin.load.late}/${edgeLate} | ` +
          `${r.origin.load.lost}/${edgeLost} | ` +
          `${r.origin.gaps.lostBeforeWindow}/${
            r.edges.map((e) => e.gaps.lostBeforeWindow).join("+") || "-"
          } | ` +
          `${r.origin.gaps.lostInWindow}/${
            r.edges.map((e) => e.gaps.lostInWindow).join("+") || "-"
          } | ${r.origin.load.timeAnswerMs.p99} | ${gens} | ` +
          `${r.benchTreeCpuPercent} | ` +
          `${r.machineBusyPercent} of ${100 * CORES}${r.saturated ? " SATURATED" : ""} | ` +
          `${r.otherLoadPercent} | ${r.waitedForQuietS} | ${r.windowSeconds} |`,
      );
      printGaps(r);
    }
  }
  const rows = cases.map((c) => cpuRow(c, runs[c]));
  const ratios: Record<string, Spread> = {};
  for (const [top, bottom] of [["b", "a"], ["a", "c"], ["b", "c"]] as const) {
    if (runs[top].length && runs[bottom].length) {
      ratios[`${top}/${bottom}`] = ratio(runs[top], runs[bottom]);
    }
  }
  return { rows, ratios, runs: [...runs.c, ...runs.a, ...runs.b] };
}

/** Per room of a run: when its lost chunks were, and the machine's load second by second. */
function printGaps(r: CpuRun) {
  const rooms = [r.origin, ...r.edges];
  rooms.forEach((room, i) => {
    const g = room.gaps;
    console.log(
      `  - ${i === 0 ? "origin" : `edge ${i}`}: generator started at ${g.generatorStartS} s, ` +
        `own window ${g.ownWindowS[0]}-${g.ownWindowS[1]} s; lost ${g.lost} (generator: ` +
        `${room.load.lost}), before/in/after the common window ${g.lostBeforeWindow}/` +
        `${g.lostInWindow}/${g.lostAfterWindow}, in own window ${g.lostInOwnWindow}; ` +
        `${g.listenersWithGaps} listeners with gaps; ${g.lostInFirst2sOfListener} within 2 s ` +
        `of the listener's first chunk; ${g.lostRoomWide} room-wide (a timestamp half the ` +
        `room missed), ${g.distinctMissingTimestamps} distinct timestamps; by second: ` +
        showSeconds(g.lostBySecond),
    );
  });
  const busy = r.timeline.filter((t) => t.atS <= r.timeline[0].atS + 40);
  console.log(
    `  - machine busy % (of ${100 * CORES}) per second from the first generator's start: ` +
      busy.map((t) => t.machine.toFixed(0)).join(" "),
  );
}

function printCpuRows(rows: CpuRow[], ratios: Record<string, Spread>) {
  const n = rows[0].listenersPerRoom;
  console.log(
    `\nOrigin CPU with edges, ${n} Opus listeners per room, --workers 1 each: ` +
      `median (min-max) of ${rows[0].originCpuPercent.runs.length} repeats, % of one core.`,
  );
  console.log(
    "| case | origin tree CPU % | nats-server CPU % | edge 1 CPU % | edge 2 CPU % | " +
      "late origin / edges | lost origin / edges | lost before window o / e | " +
      "lost in window o / e | origin time p99 ms | machine busy % (of " + 100 * CORES +
      ") | others' load % | saturated runs |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.case}: ${r.label} | ${show(r.originCpuPercent)} | ${
        show(r.natsCpuPercent) || "-"
      } | ` +
        `${r.edgeCpuPercent[0] ? show(r.edgeCpuPercent[0]) : "-"} | ` +
        `${r.edgeCpuPercent[1] ? show(r.edgeCpuPercent[1]) : "-"} | ` +
        `${show(r.originLate, 0)} / ${r.case === "b" ? show(r.edgeLate, 0) : "-"} | ` +
        `${show(r.originLost, 0)} / ${r.case === "b" ? show(r.edgeLost, 0) : "-"} | ` +
        `${show(r.originLostBeforeWindow, 0)} / ${
          r.case === "b" ? show(r.edgeLostBeforeWindow, 0) : "-"
        } | ` +
        `${show(r.originLostInWindow, 0)} / ${
          r.case === "b" ? show(r.edgeLostInWindow, 0) : "-"
        } | ${show(r.originTimeP99Ms)} | ` +
        `${show(r.machineBusyPercent)} | ${show(r.otherLoadPercent)} | ${r.saturatedRuns} |`,
    );
  }
  const shown = Object.entries(ratios).map(([k, v]) => `(${k.replace("/", ")/(")}) ${show(v, 2)}`);
  if (shown.length) console.log(`Origin CPU ratios, per repeat: ${shown.join("; ")}.`);
}

// ---------------------------------------------------------------- part 2: the clock

interface ClockSample {
  atS: number;
  errorUs: number;
  originRttUs: number;
  edgeRttUs: number;
  /** The edge's own estimate of its error, from its /api/status. */
  edgeReportedErrorUs: number | null;
}

interface ClockRun {
  link: "relay" | "direct";
  run: number;
  samples: ClockSample[];
  listenerLost: number[];
  waitedForQuietS: number;
}

/** The relay as a process of its own (its timers off our event loop); resolves with its port. */
async function startRelay(port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", RELAY, "127.0.0.1", String(port), "2", "1"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errors = drain(child.stderr);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const relayPort = Number(value?.trim());
  if (!relayPort) throw new Error(`the delay relay did not start: ${errors.tail}`);
  return { port: relayPort, child };
}

/** clockOffsetUs, with what went wrong told in words (a WebSocket fails with an ErrorEvent). */
async function probe(room: PartyProcess, name: string) {
  try {
    return await clockOffsetUs(room.url);
  } catch (error) {
    const why = error instanceof ErrorEvent ? error.message : String(error);
    const exited = await Promise.race([room.child.status, sleep(0).then(() => undefined)]);
    throw new Error(
      `cannot measure the ${name}'s clock at ${room.url}: ${why}` +
        `${exited ? ` (it exited, code ${exited.code})` : ""}; its log ends: ${
          room.log().slice(-1500)
        }`,
    );
  }
}

async function clockRun(
  link: "relay" | "direct",
  run: number,
  o: { after: number; every: number; for: number },
): Promise<ClockRun> {
  let nats: NatsServer | undefined;
  let origin: PartyProcess | undefined;
  let edge: PartyProcess | undefined;
  let relay: { port: number; child: Deno.ChildProcess } | undefined;
  const party: Run = { measuring: false, stopping: false, probeTimeouts: 0 };
  const listeners: Listener[] = [];
  const waitedForQuietS = await waitForQuiet();
  try {
    nats = await startNatsServer();
    origin = await startParty(["--demo", ...ROOM_ARGS, "--edges", nats.url]);
    relay = link === "relay" ? await startRelay(nats.port) : undefined;
    edge = await startEdge(relay ? `nats://127.0.0.1:${relay.port}` : nats.url, ROOM_ARGS);
    const startedMs = performance.now();
    // One Opus listener per room: the party plays, its timeline flows over the edge's link.
    for (const room of [origin, edge]) {
      const { Listener } = await import("./load_generator.ts");
      const listener = new Listener(listeners.length, "opus", party);
      listeners.push(listener);
      await listener.connect(`ws://127.0.0.1:${room.port}/sendspin`);
    }
    const samples: ClockSample[] = [];
    for (let atS = o.after; atS <= o.after + o.for; atS += o.every) {
      const dueMs = startedMs + atS * 1000 - performance.now();
      if (dueMs > 0) await sleep(dueMs);
      const atOrigin = await probe(origin, "origin");
      const atEdge = await probe(edge, "edge");
      const rooms = (await status(edge.url)).rooms as
        | { role: string; clock_error_us?: number | null }[]
        | undefined;
      samples.push({
        atS,
        errorUs: round(Math.abs(atEdge.offsetUs - atOrigin.offsetUs)),
        originRttUs: round(atOrigin.rttUs),
        edgeRttUs: round(atEdge.rttUs),
        edgeReportedErrorUs: rooms?.find((r) => r.role === "edge")?.clock_error_us ?? null,
      });
    }
    return { link, run, samples, listenerLost: listeners.map((l) => l.lost), waitedForQuietS };
  } finally {
    party.stopping = true;
    for (const listener of listeners) listener.close();
    await stopRoom(edge);
    if (relay) {
      try {
        relay.child.kill();
      } catch { /* gone */ }
      await relay.child.status;
    }
    await stopRoom(origin);
    await nats?.stop();
  }
}

interface ClockRow {
  link: "relay" | "direct";
  label: string;
  runs: number;
  samples: number;
  pooled: { medianUs: number; p95Us: number; maxUs: number };
  perRun: { medianUs: Spread; p95Us: Spread; maxUs: Spread };
  edgeReportedErrorUs: Spread;
  probeRttUs: { origin: number; edge: number };
}

function clockRow(link: "relay" | "direct", runs: ClockRun[]): ClockRow {
  const all = runs.flatMap((r) => r.samples.map((s) => s.errorUs));
  const each = (f: (values: number[]) => number) =>
    spread(runs.map((r) => round(f(r.samples.map((s) => s.errorUs)))));
  return {
    link,
    label: link === "relay" ? "2 ms ± 1 ms each way (delay relay)" : "direct loopback (floor)",
    runs: runs.length,
    samples: all.length,
    pooled: {
      medianUs: round(median(all)),
      p95Us: round(percentile(all, 95)),
      maxUs: round(Math.max(...all)),
    },
    perRun: {
      medianUs: each(median),
      p95Us: each((v) => percentile(v, 95)),
      maxUs: each((v) => Math.max(...v)),
    },
    edgeReportedErrorUs: spread(
      runs.flatMap((r) => r.samples.flatMap((s) => s.edgeReportedErrorUs ?? [])),
    ),
    probeRttUs: {
      origin: round(median(runs.flatMap((r) => r.samples.map((s) => s.originRttUs)))),
      edge: round(median(runs.flatMap((r) => r.samples.map((s) => s.edgeRttUs)))),
    },
  };
}

function printClockRows(rows: ClockRow[], o: { after: number; every: number; for: number }) {
  console.log(
    `\nEdge clock error |edge offset - origin offset|, µs: from ${o.after} s after the edge ` +
      `started, every ${o.every} s for ${o.for} s; pooled over all samples of all runs, and ` +
      `median (min-max) of the runs' own.`,
  );
  console.log(
    "| edge's NATS link | runs | samples | median | p95 | max | per-run median | per-run p95 | " +
      "per-run max | edge's own clock_error_us, median (min-max) | probe RTT origin / edge µs |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.runs} | ${r.samples} | ${r.pooled.medianUs} | ${r.pooled.p95Us} | ` +
        `${r.pooled.maxUs} | ${show(r.perRun.medianUs)} | ${show(r.perRun.p95Us)} | ` +
        `${show(r.perRun.maxUs)} | ${show(r.edgeReportedErrorUs, 0)} | ` +
        `${r.probeRttUs.origin} / ${r.probeRttUs.edge} |`,
    );
  }
}

// ---------------------------------------------------------------- when chunks are lost

/**
 * A gap one listener saw, recorded inside its load generator: when the chunk after it arrived
 * (epochMs), which listener (its socket's index in joining order), since that listener's first
 * chunk (ms), how many chunks were missing, and the first missing one's timestamp (server µs).
 * The generator counts the same gaps, the same way (load_generator.ts `#audio`), over each
 * listener's whole life; this says when they were.
 */
type Gap = [
  atMs: number,
  listener: number,
  sinceFirstChunkMs: number,
  size: number,
  fromTs: number,
];

/**
 * Installed in a load generator started with `--preload` of this file: wraps WsClient.connect so
 * every binary message is read as the generator reads it (before it does), and the first
 * WsClient.close (the generator closes its listeners once it has measured, then emits its
 * result) emits every gap as one more line: {"event":"gaps","gaps":[Gap...]}.
 */
function installGapHook() {
  const gaps: Gap[] = [];
  let sockets = 0;
  const connect = WsClient.connect;
  WsClient.connect = (url, handlers, options) => {
    const index = sockets++;
    let lastTs = NaN;
    let firstMs = NaN;
    return connect.call(WsClient, url, {
      ...handlers,
      onBinary(bytes, arrivedUs) {
        if (bytes.byteLength >= AUDIO_HEADER_BYTES) {
          const ts = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(1, false));
          const at = epochMs();
          if (Number.isNaN(firstMs)) firstMs = at;
          if (ts - lastTs > CHUNK_US + 1) {
            const size = Math.round((ts - lastTs) / CHUNK_US) - 1;
            gaps.push([round(at, 0), index, round(at - firstMs, 0), size, lastTs + CHUNK_US]);
          }
          lastTs = ts;
        }
        handlers.onBinary(bytes, arrivedUs);
      },
    }, options);
  };
  const close = WsClient.prototype.close;
  let emitted = false;
  WsClient.prototype.close = function () {
    if (!emitted) {
      emitted = true;
      // After the generator's own synchronous close loop and result line.
      queueMicrotask(() => console.log(JSON.stringify({ event: "gaps", gaps })));
    }
    return close.call(this);
  };
}

/** Where one room's lost chunks fell, from its generator's gaps. */
interface GapReport {
  /** The sum of the gaps' sizes (should equal the generator's own `lost`). */
  lost: number;
  /** Before, inside and after the window all generators measured together. */
  lostBeforeWindow: number;
  lostInWindow: number;
  lostAfterWindow: number;
  /** Inside this generator's own window (the same as the common one unless staggered). */
  lostInOwnWindow: number;
  listenersWithGaps: number;
  /** Lost within 2 s of the listener's own first chunk (its join), and later. */
  lostInFirst2sOfListener: number;
  /** Lost chunks whose timestamp at least half the room's listeners missed (room-wide). */
  lostRoomWide: number;
  distinctMissingTimestamps: number;
  /** Lost chunks per second since the first generator of the run started ("s": count). */
  lostBySecond: Record<string, number>;
  /** When this room's generator started, its window began and ended, s since that start. */
  generatorStartS: number;
  ownWindowS: [number, number];
}

function gapReport(
  gaps: Gap[],
  listeners: number,
  t0Ms: number,
  window: [number, number],
  own: { startMs: number; measuringMs: number; measuredMs: number },
): GapReport {
  const sum = (f: (g: Gap) => boolean) => gaps.reduce((n, g) => n + (f(g) ? g[3] : 0), 0);
  const missedBy = new Map<number, number>();
  for (const g of gaps) {
    for (let k = 0; k < g[3]; k++) {
      const ts = g[4] + k * CHUNK_US;
      missedBy.set(ts, (missedBy.get(ts) ?? 0) + 1);
    }
  }
  let roomWide = 0;
  for (const n of missedBy.values()) if (n >= listeners / 2) roomWide += n;
  const bySecond: Record<string, number> = {};
  for (const g of gaps) {
    const s = String(Math.floor((g[0] - t0Ms) / 1000));
    bySecond[s] = (bySecond[s] ?? 0) + g[3];
  }
  return {
    lost: sum(() => true),
    lostBeforeWindow: sum((g) => g[0] < window[0]),
    lostInWindow: sum((g) => g[0] >= window[0] && g[0] <= window[1]),
    lostAfterWindow: sum((g) => g[0] > window[1]),
    lostInOwnWindow: sum((g) => g[0] >= own.measuringMs && g[0] <= own.measuredMs),
    listenersWithGaps: new Set(gaps.map((g) => g[1])).size,
    lostInFirst2sOfListener: sum((g) => g[2] <= 2_000),
    lostRoomWide: roomWide,
    distinctMissingTimestamps: missedBy.size,
    lostBySecond: bySecond,
    generatorStartS: round((own.startMs - t0Ms) / 1000, 2),
    ownWindowS: [
      round((own.measuringMs - t0Ms) / 1000, 2),
      round((own.measuredMs - t0Ms) / 1000, 2),
    ],
  };
}

/** "s:count" of the seconds that lost chunks, e.g. "3:120 4:310". */
const showSeconds = (bySecond: Record<string, number>) =>
  Object.entries(bySecond).map(([s, n]) => `${s}:${n}`).join(" ") || "none";

// ---------------------------------------------------------------- main

async function natsServerVersion(): Promise<string> {
  for (const path of ["nats-server", "/usr/sbin/nats-server"]) {
    try {
      const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped" }).output();
      return new TextDecoder().decode(out.stdout).trim();
    } catch { /* not there */ }
  }
  return "nats-server (version unknown)";
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      listeners: { type: "string", default: "500" },
      fallback: { type: "string", default: "200" },
      repeat: { type: "string", default: "3" },
      settle: { type: "string", default: "5" },
      seconds: { type: "string", default: "20" },
      "clock-runs": { type: "string", default: "3" },
      "clock-after": { type: "string", default: "10" },
      "clock-every": { type: "string", default: "5" },
      "clock-for": { type: "string", default: "60" },
      parts: { type: "string", default: "cpu,clock" },
      "quiet-wait": { type: "string", default: "20" },
      cases: { type: "string", default: "c,a,b" },
      stagger: { type: "string", default: "0" },
      json: { type: "string" },
    },
  });
  const startedMs = performance.now();
  quietWaitMs = Number(values["quiet-wait"]) * 1000;
  const list = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const parts = list(values.parts!);
  const repeat = Number(values.repeat);
  const settle = Number(values.settle);
  const seconds = Number(values.seconds);
  const stagger = Number(values.stagger);
  const cases = list(values.cases!) as CaseName[];
  for (const c of cases) {
    if (!(c in CASES)) throw new Error(`--cases: ${c} is not one of ${Object.keys(CASES)}`);
  }
  if (!(stagger >= 0)) throw new Error(`--stagger must be 0 or more seconds, not ${stagger}`);
  const cpu = osCpus()[0]?.model ?? "unknown CPU";
  const natsVersion = await natsServerVersion();
  console.log(
    `Edges benchmark: ${CORES} cores (${cpu}), Deno ${Deno.version.deno}, ${natsVersion}; ` +
      `every room --workers 1, all processes on this machine.`,
  );
  const report: Record<string, unknown> = {
    machine: { cores: CORES, cpu, deno: Deno.version.deno, nats: natsVersion },
    options: values,
    startedAt: new Date().toISOString(),
  };
  const path = new URL(
    values.json ?? `tests/artifacts/edges-${new Date().toISOString().slice(0, 10)}.json`,
    ROOT,
  );
  /** Writes what is known so far (after each part: a later failure keeps the earlier's). */
  const save = () => {
    const elapsedS = round((performance.now() - startedMs) / 1000, 0);
    report.elapsedSeconds = elapsedS;
    Deno.mkdirSync(new URL(".", path), { recursive: true });
    Deno.writeTextFileSync(path, JSON.stringify(report, null, 1));
    return elapsedS;
  };

  if (parts.includes("cpu")) {
    const sizes = list(values.listeners!).map(Number);
    const done = new Set<number>();
    const cpuResults: {
      listenersPerRoom: number;
      rows: CpuRow[];
      ratios: Record<string, Spread>;
    }[] = [];
    const cpuRuns: CpuRun[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const n = sizes[i];
      if (done.has(n)) continue;
      done.add(n);
      const { rows, ratios, runs } = await cpuSize(n, repeat, settle, seconds, cases, stagger);
      printCpuRows(rows, ratios);
      cpuResults.push({ listenersPerRoom: n, rows, ratios });
      cpuRuns.push(...runs);
      const fallback = Number(values.fallback);
      const b = rows.find((r) => r.case === "b");
      if (b && b.saturatedRuns > 0 && fallback && !done.has(fallback) && fallback < n) {
        console.log(
          `\n${n} per room: ${b.saturatedRuns} of ${repeat} runs of (b) saturated (machine ` +
            `>= 90% busy, or a late chunk): running ${fallback} per room as well.`,
        );
        sizes.push(fallback);
      }
    }
    report.cpu = { results: cpuResults, runs: cpuRuns };
    save();
    console.log("\nAll CPU tables, together:");
    for (const r of cpuResults) printCpuRows(r.rows, r.ratios);
  }

  if (parts.includes("clock")) {
    const o = {
      after: Number(values["clock-after"]),
      every: Number(values["clock-every"]),
      for: Number(values["clock-for"]),
    };
    const runs: Record<"relay" | "direct", ClockRun[]> = { relay: [], direct: [] };
    const failures: { link: string; run: number; attempt: number; message: string }[] = [];
    console.log("\nEdge clock, run by run (|error| µs per sample):");
    for (let i = 1; i <= Number(values["clock-runs"]); i++) {
      for (const link of ["relay", "direct"] as const) {
        // An edge that never finds its party (seen once in a while) spoils one attempt: the
        // run is made again with fresh processes, and the failure kept in the JSON.
        let r: ClockRun | undefined;
        for (let attempt = 1; !r && attempt <= 2; attempt++) {
          try {
            r = await clockRun(link, i, o);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            failures.push({ link, run: i, attempt, message });
            console.log(`- ${link} run ${i}, attempt ${attempt} failed: ${message.slice(0, 400)}`);
          }
        }
        if (!r) continue;
        runs[link].push(r);
        console.log(
          `- ${link} run ${i}: ${r.samples.map((s) => s.errorUs.toFixed(0)).join(", ")} ` +
            `(edge's own estimate: ${
              r.samples.map((s) => s.edgeReportedErrorUs ?? "-").join(", ")
            }; listeners' lost chunks ${r.listenerLost.join("/")})`,
        );
      }
    }
    const rows = (["relay", "direct"] as const).filter((link) => runs[link].length)
      .map((link) => clockRow(link, runs[link]));
    printClockRows(rows, o);
    report.clock = { rows, runs: [...runs.relay, ...runs.direct], failures };
  }

  const elapsedS = save();
  console.log(`\nTook ${Math.floor(elapsedS / 60)} min ${elapsedS % 60} s. JSON: ${path.pathname}`);
}

if (!import.meta.main && Deno.mainModule === new URL("./load_generator.ts", import.meta.url).href) {
  installGapHook();
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`bench:edges: ${error instanceof Error ? error.stack : error}`);
    Deno.exit(1);
  });
}
