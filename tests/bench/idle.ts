/**
 * What the server holds before the first guest: `serve --demo` started exactly as the
 * `sendspin` task starts it, left alone for `--settle` seconds, then the RSS and PSS of each
 * of its processes (coordinator first), `--repeat` fresh starts per worker count. Beside it, a
 * bare Deno process doing nothing, the floor no process of ours can go under.
 *
 * Run: deno task bench:idle [--workers 1,2] [--repeat 3] [--settle 15]
 */
import { parseArgs } from "node:util";
import { freePort, startSendspin, stop } from "./server_process.ts";
import { sampleTree } from "./process_tree.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    workers: { type: "string", default: "1,2" },
    repeat: { type: "string", default: "3" },
    settle: { type: "string", default: "15" },
  },
});
const settleMs = Number(values.settle) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

async function bareDeno(): Promise<{ rss: number; pss: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "setTimeout(() => {}, 600_000)"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await sleep(Math.min(settleMs, 5_000));
    const sample = sampleTree([child.pid]);
    return { rss: sample.rssBytes, pss: sample.pssBytes };
  } finally {
    child.kill();
    await child.status;
  }
}

const bare = await bareDeno();
console.log(`Idle footprint after ${values.settle} s, no listener (MiB).`);
console.log(`A bare Deno process: RSS ${mib(bare.rss)}, PSS ${mib(bare.pss)}.`);
console.log("| --workers | run | RSS in all | RSS per process | PSS in all | PSS per process |");
console.log("|---|---|---|---|---|---|");
for (const workers of values.workers.split(",").map(Number)) {
  for (let run = 1; run <= Number(values.repeat); run++) {
    const started = await startSendspin({ workers }, freePort());
    try {
      await sleep(settleMs);
      const s = sampleTree(started.processes.map((p) => p.pid));
      console.log(
        `| ${workers} | ${run} | ${mib(s.rssBytes)} | ${s.rssByPid.map(mib).join(" + ")} | ` +
          `${mib(s.pssBytes)} | ${s.pssByPid.map(mib).join(" + ")} |`,
      );
    } finally {
      await stop(started);
    }
  }
}
