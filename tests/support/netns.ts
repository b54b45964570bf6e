/**
 * "Two machines" on one: two network namespaces joined by a veth pair, with netem delaying
 * each direction, so a test sees a real link's latency (and jitter) between, say, a server
 * and its listeners, without leaving this machine. Needs root, iproute2 (`ip`, `tc`) and the
 * kernel's sch_netem; `whyNoNetem()` says which is missing, for `ignoreUnless`.
 *
 *     const rooms = await twoRooms({ delayMs: 5 });
 *     try {
 *       const server = rooms.command(rooms.b.name, Deno.execPath(), [...]).spawn();
 *       // ...connect to rooms.b.address from rooms.a...
 *     } finally {
 *       await rooms.close();
 *     }
 */

/** One side of the link: its namespace, its address on the link, and the link's device. */
export interface Room {
  /** The namespace, for `ip netns exec`, `startNatsServer({ netns })` or `command()`. */
  name: string;
  /** Its IPv4 address on the link (10.77.<n>.1 for a, .2 for b). */
  address: string;
  /** The veth device in it ("veth0" in both). */
  device: string;
}

export interface TwoRooms {
  a: Room;
  b: Room;
  /** `cmd args` inside namespace `ns` (via `ip netns exec`); `args` wins over `options.args`. */
  command(ns: string, cmd: string, args: string[], options?: Deno.CommandOptions): Deno.Command;
  /** Deletes both namespaces (and so the link); safe to call more than once. */
  close(): Promise<void>;
}

export interface TwoRoomsOptions {
  /** Added to each direction, so a round trip takes about twice this. Default 2. */
  delayMs?: number;
  /** netem's jitter on each direction's delay. Default 1. Both 0: no netem at all. */
  jitterMs?: number;
}

const DEVICE = "veth0";

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; error: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    })
      .output();
    return { ok: out.success, error: new TextDecoder().decode(out.stderr).trim() };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

const ip = (...args: string[]) => run("ip", args);

/** Why this machine cannot give tests two rooms joined by a veth pair, or undefined if it can. */
export function whyNoNamespaces(): Promise<string | undefined> {
  return probe(false);
}

/**
 * Why this machine cannot give tests two delayed rooms, or undefined if it can: probed by
 * building a namespace with a veth pair and netem on it, then deleting it.
 */
export function whyNoNetem(): Promise<string | undefined> {
  return probe(true);
}

async function probe(withNetem: boolean): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "needs root to create network namespaces";
  const probe = `sendspin-netem-probe-${Deno.pid}`;
  const created = await ip("netns", "add", probe);
  if (!created.ok) {
    return `cannot create a network namespace (ip netns add: ${created.error}; apt-get install iproute2)`;
  }
  try {
    const veth = await ip("-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1");
    if (!veth.ok) return `cannot create a veth pair (ip link add: ${veth.error})`;
    if (!withNetem) return undefined;
    const netem = await run("ip", [
      "netns",
      "exec",
      probe,
      "tc",
      "qdisc",
      "add",
      "dev",
      "p0",
      "root",
      "netem",
      "delay",
      "2ms",
      "1ms",
    ]);
    if (!netem.ok) {
      return `cannot add a netem qdisc (tc: ${netem.error}; needs tc from iproute2 and the ` +
        "kernel's sch_netem: modprobe sch_netem)";
    }
    return undefined;
  } finally {
    await ip("netns", "del", probe);
  }
}

/** Namespaces this process made and has not deleted: deleted at exit if a test forgot. */
const open = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const name of open) {
    try {
      new Deno.Command("ip", { args: ["netns", "del", name], stdout: "null", stderr: "null" })
        .outputSync();
    } catch { /* nothing more to do at exit */ }
  }
});

let made = 0;

/**
 * Two fresh namespaces, a and b, each with loopback up (multicast on), joined by a veth pair
 * on 10.77.<n>.0/24 with netem on both ends, and multicast routed over the link (so mDNS
 * between the rooms works). Everything made is deleted again if a step fails.
 */
export async function twoRooms(options: TwoRoomsOptions = {}): Promise<TwoRooms> {
  const { delayMs = 2, jitterMs = 1 } = options;
  const n = made++ % 256;
  const a: Room = { name: `sendspin-a-${Deno.pid}-${n}`, address: `10.77.${n}.1`, device: DEVICE };
  const b: Room = { name: `sendspin-b-${Deno.pid}-${n}`, address: `10.77.${n}.2`, device: DEVICE };
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      for (const { name } of [a, b]) {
        if (!open.has(name)) continue;
        await ip("netns", "del", name);
        open.delete(name);
      }
    })();

  const steps: { cmd: string; args: string[] }[] = [];
  const step = (cmd: string, ...args: string[]) => steps.push({ cmd, args });
  for (const room of [a, b]) {
    step("ip", "netns", "add", room.name);
  }
  // Made straight into the namespaces, so the names cannot clash with anything on the host.
  step(
    "ip",
    "link",
    "add",
    DEVICE,
    "netns",
    a.name,
    "type",
    "veth",
    "peer",
    "name",
    DEVICE,
    "netns",
    b.name,
  );
  for (const room of [a, b]) {
    step("ip", "-n", room.name, "link", "set", "lo", "up");
    step("ip", "-n", room.name, "link", "set", "lo", "multicast", "on");
    step("ip", "-n", room.name, "addr", "add", `${room.address}/24`, "dev", DEVICE);
    step("ip", "-n", room.name, "link", "set", DEVICE, "up");
    step("ip", "-n", room.name, "route", "add", "224.0.0.0/4", "dev", DEVICE);
    if (delayMs || jitterMs) {
      // netem delays what leaves a device: one on each end delays both directions.
      step(
        "ip",
        ...["netns", "exec", room.name, "tc", "qdisc", "add", "dev", DEVICE, "root"],
        ...["netem", "delay", `${delayMs}ms`, `${jitterMs}ms`],
      );
    }
  }
  for (const { cmd, args } of steps) {
    const done = await run(cmd, args);
    if (done.ok) {
      if (args[0] === "netns" && args[1] === "add") open.add(args[2]);
      continue;
    }
    await close();
    throw new Error(`twoRooms: ${cmd} ${args.join(" ")} failed: ${done.error}`);
  }

  return {
    a,
    b,
    command: (ns, cmd, args, options = {}) =>
      new Deno.Command("ip", { ...options, args: ["netns", "exec", ns, cmd, ...args] }),
    close,
  };
}
