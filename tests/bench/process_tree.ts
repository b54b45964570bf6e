/**
 * CPU time and resident memory of a process and all its descendants, read from /proc
 * (Linux). The server under test is a coordinator plus worker subprocesses, and every one of
 * them counts.
 */

/** Kernel clock ticks per second for utime/stime (USER_HZ, 100 on every Linux we target). */
const TICKS_PER_SECOND = 100;

export interface TreeSample {
  /** User plus system CPU seconds used so far by every live process of the tree. */
  cpuSeconds: number;
  rssBytes: number;
  /**
   * Proportional set size: RSS with each page shared by N processes counted 1/N (the Deno
   * binary's code pages are shared by the coordinator and its workers). What the tree costs
   * the machine's RAM in all.
   */
  pssBytes: number;
  /** CPU seconds, RSS and PSS of each process, in the order of `pids`. */
  cpuByPid: number[];
  rssByPid: number[];
  pssByPid: number[];
  pids: number[];
}

function cpuTicks(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // exited while we looked
  }
}

/** A "Name:   N kB" field of a /proc file, in bytes (0 if the process exited). */
function kibField(file: string, name: string): number {
  try {
    const kib = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(Deno.readTextFileSync(file))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

const rssBytes = (pid: number) => kibField(`/proc/${pid}/status`, "VmRSS");
const pssBytes = (pid: number) => kibField(`/proc/${pid}/smaps_rollup`, "Pss");

/** Direct children of `pid`, over all its threads (each thread lists the ones it forked). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
      for (const word of text.split(" ")) if (word) children.push(Number(word));
    }
  } catch { /* exited while we looked */ }
  return children;
}

/** Every pid in the tree rooted at `rootPid` (the root included). */
export function treePids(rootPid: number): number[] {
  const pids: number[] = [];
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    pids.push(pid);
    todo.push(...childrenOf(pid));
  }
  return pids;
}

export function sampleTree(rootPids: number[]): TreeSample {
  const pids = rootPids.flatMap(treePids);
  const cpuByPid = pids.map((pid) => cpuTicks(pid) / TICKS_PER_SECOND);
  const rssByPid = pids.map(rssBytes);
  const pssByPid = pids.map(pssBytes);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    cpuSeconds: sum(cpuByPid),
    rssBytes: sum(rssByPid),
    pssBytes: sum(pssByPid),
    cpuByPid,
    rssByPid,
    pssByPid,
    pids,
  };
}
