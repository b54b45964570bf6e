/**
 * The soak (`deno task bench:soak`): the real server on 2 workers for 30 minutes, with
 * steady listeners that stay the whole time and churn (listeners joining and leaving every
 * second). Every minute it prints the server's RSS (all processes) and the steady listeners'
 * late and lost chunks. The claims: RSS flat, zero late chunks, nothing lost.
 *
 *   deno task bench:soak [--minutes 30] [--listeners 200] [--churn 2] [--workers 2]
 *                        [--codec opus] [--json tests/artifacts/bench-soak.json]
 */
import { parseArgs } from "node:util";
import { Listener, type Run } from "./load_generator.ts";
import { sampleTree } from "./process_tree.ts";
import { freePort, startSendspin, stop } from "./server_process.ts";

const ROOT = new URL("../../", import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

interface Sample {
  minute: number;
  rssMiB: number;
  listeners: number;
  churned: number;
  chunks: number;
  late: number;
  lost: number;
  closedEarly: number;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string", default: "30" },
      listeners: { type: "string", default: "200" },
      churn: { type: "string", default: "2" },
      workers: { type: "string", default: "2" },
      codec: { type: "string", default: "opus" },
      json: { type: "string", default: "tests/artifacts/bench-soak.json" },
    },
  });
  const minutes = Number(values.minutes);
  const steadyCount = Number(values.listeners);
  const churnPerSecond = Number(values.churn);
  const workers = Number(values.workers);
  const port = freePort();
  const url = `ws://127.0.0.1:${port}/sendspin`;
  const server = await startSendspin({ workers }, port);
  const roots = server.processes.map((p) => p.pid);
  let exited = false;
  server.processes[0].status.then(() => exited = true);
  const run: Run = { measuring: false, online: true, stopping: false, probeTimeouts: 0 };
  let nextIndex = 0;
  const join = () => {
    const listener = new Listener(nextIndex++, values.codec!, run);
    listener.connect(url);
    return listener;
  };
  console.log(
    `Soak: ${minutes} min, ${steadyCount} steady ${values.codec} listeners, ` +
      `${churnPerSecond} joining and ${churnPerSecond} leaving every second, ${workers} workers.`,
  );
  try {
    await sleep(1_000);
    const idle = sampleTree(roots);
    console.log(`idle server: ${mib(idle.rssBytes)} MiB`);
    const steady: Listener[] = [];
    for (let i = 0; i < steadyCount; i++) {
      steady.push(join());
      await sleep(5);
    }
    const churn: Listener[] = [];
    let churned = 0;
    const churner = setInterval(() => {
      for (let i = 0; i < churnPerSecond; i++) {
        churn.push(join());
        // Leavers stay a few seconds, long enough to get their hello, audio and a time burst.
        if (churn.length > churnPerSecond * 5) {
          churn.shift()!.close();
          churned++;
        }
      }
    }, 1_000);
    const samples: Sample[] = [];
    console.log(
      "| minute | server RSS MiB | listeners | churned | chunks | late | lost | closed |",
    );
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (let minute = 1; minute <= minutes; minute++) {
      await sleep(60_000);
      if (exited) {
        throw new Error(`the server stopped in minute ${minute}: ${server.errors[0].tail}`);
      }
      const tree = sampleTree(roots);
      const sum = (f: (l: Listener) => number) => steady.reduce((a, l) => a + f(l), 0);
      const sample: Sample = {
        minute,
        rssMiB: mib(tree.rssBytes),
        listeners: steady.length + churn.length,
        churned,
        chunks: sum((l) => l.onlineChunks),
        late: sum((l) => l.onlineLate),
        lost: sum((l) => l.lost),
        closedEarly: steady.filter((l) => l.closedEarly).length,
      };
      samples.push(sample);
      console.log(`| ${Object.values(sample).join(" | ")} |`);
    }
    clearInterval(churner);
    run.stopping = true;
    for (const listener of [...steady, ...churn]) listener.close();
    const path = new URL(values.json!, ROOT);
    Deno.mkdirSync(new URL(".", path), { recursive: true });
    Deno.writeTextFileSync(
      path,
      JSON.stringify({ idleMiB: mib(idle.rssBytes), ...values, samples }, null, 1),
    );
    console.log(`JSON: ${path.pathname}`);
  } finally {
    await stop(server);
  }
  Deno.exit(0);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`soak: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  });
}
