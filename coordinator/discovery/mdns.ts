/**
 * Tells the local network where the party is (mDNS and DNS-SD, RFC 6762/6763), so Sendspin
 * apps and speakers find it: `_sendspin-server._tcp` with TXT `path=/sendspin` and
 * `name=<server name>`. The coordinator advertises once for all its workers. Discovery is
 * a convenience: without a network or multicast the party plays on after one warning.
 */
import makeMdns from "multicast-dns";
import type { Logger } from "../../protocol/log.ts";
import { truncateUtf8 } from "../../protocol/messages.ts";

export const SERVICE_TYPE = "_sendspin-server._tcp.local";
const SERVICE_LIST = "_services._dns-sd._udp.local";
const MDNS_PORT = 5353;
/** RFC 6762 §10: 120 s for records naming a host, 75 minutes for the rest. */
const HOST_TTL = 120;
const OTHER_TTL = 4_500;
/** Announcements at start-up, a second apart (§8.3 asks for at least two). */
const ANNOUNCEMENTS = 2;

export interface AdvertiseOptions {
  /** Unique on the network: the instance and host label (the reference uses its server id). */
  serverId: string;
  /** What apps show: the TXT `name`. */
  name: string;
  port: number;
  /** The IPv4 address guests reach us on (the banner's); the service is answered there. */
  address: string | undefined;
  log: Logger;
}

export interface Advertisement {
  /** Withdraws the service (records with TTL 0) and closes the socket. */
  stop(): Promise<void>;
}

type Record = ReturnType<typeof records>[number];

function records(options: AdvertiseOptions & { address: string }, ttlScale: 0 | 1) {
  const instance = `${options.serverId}.${SERVICE_TYPE}`;
  const host = `${options.serverId}.local`;
  const txt = ["path=/sendspin", truncateUtf8(`name=${options.name}`, 255)]; // one length byte
  return [
    // Shared records (many services answer for these names): never the cache-flush bit.
    {
      name: SERVICE_LIST,
      type: "PTR" as const,
      ttl: OTHER_TTL * ttlScale,
      flush: false,
      data: SERVICE_TYPE,
    },
    {
      name: SERVICE_TYPE,
      type: "PTR" as const,
      ttl: OTHER_TTL * ttlScale,
      flush: false,
      data: instance,
    },
    {
      name: instance,
      type: "SRV" as const,
      ttl: HOST_TTL * ttlScale,
      flush: true,
      data: { port: options.port, target: host, priority: 0, weight: 0 },
    },
    { name: instance, type: "TXT" as const, ttl: OTHER_TTL * ttlScale, flush: true, data: txt },
    {
      name: host,
      type: "A" as const,
      ttl: HOST_TTL * ttlScale,
      flush: true,
      data: options.address,
    },
  ];
}

/** Which of our records answer a question, and which go along as additionals (§6, RFC 6763 §12). */
export function answerFor(
  all: Record[],
  question: { name: string; type: string },
): { answers: Record[]; additionals: Record[] } {
  const name = question.name.toLowerCase();
  const matches = all.filter((record) =>
    record.name.toLowerCase() === name && (question.type === "ANY" || question.type === record.type)
  );
  const additionals = matches.some((r) => r.type === "PTR" && r.name === SERVICE_TYPE) ||
      matches.some((r) => r.type === "SRV")
    ? all.filter((r) => r.type === "SRV" || r.type === "TXT" || r.type === "A")
    : [];
  return { answers: matches, additionals: additionals.filter((r) => !matches.includes(r)) };
}

function bindProblem(error: Error & { code?: string }): string {
  if (error.code === "EADDRINUSE") {
    return "UDP port 5353 is held by a program that does not share it";
  }
  if (error.code === "EACCES") return "not allowed to use UDP port 5353";
  return error.code ?? error.message;
}

/** Whether an address is on the same link as ours (the interface's subnet). */
export function onLinkTest(
  ours: string,
  interfaces: Pick<Deno.NetworkInterfaceInfo, "family" | "address" | "cidr">[] = safeInterfaces(),
): (address: string) => boolean {
  const mine = interfaces.find((i) => i.family === "IPv4" && i.address === ours);
  // Subnet unknown (interfaces not readable): answer everyone rather than no one.
  if (!mine) return () => true;
  const bits = Number(mine.cidr.split("/")[1] ?? 32);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const net = (ipv4ToNumber(ours) & mask) >>> 0;
  return (address) => {
    const value = ipv4ToNumber(address.replace(/^::ffff:/, ""));
    return !Number.isNaN(value) && ((value & mask) >>> 0) === net;
  };
}

function ipv4ToNumber(address: string): number {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return NaN;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function safeInterfaces() {
  try {
    return Deno.networkInterfaces();
  } catch {
    return []; // not allowed: only our own address counts as on-link
  }
}

/** Starts answering and announcing; undefined (after one warning) where mDNS cannot work. */
export async function advertise(options: AdvertiseOptions): Promise<Advertisement | undefined> {
  const { log } = options;
  const unavailable = (why: string) =>
    log.warn(`not announced on the network (mDNS: ${why}); guests can still open the URL`);
  const { address } = options;
  if (!address) {
    unavailable("no network address");
    return undefined;
  }
  let mdns: ReturnType<typeof makeMdns>;
  try {
    mdns = makeMdns({
      bind: "0.0.0.0",
      interface: address,
      reuseAddr: true,
      loopback: true,
    });
  } catch (error) {
    unavailable((error as Error).message);
    return undefined;
  }
  const live = records({ ...options, address }, 1);
  const send = (
    packet: Parameters<typeof mdns.respond>[0],
    to?: { address: string; port: number },
  ) =>
    new Promise<void>((resolve, reject) =>
      mdns.respond(packet, to, (error: Error | null) => error ? reject(error) : resolve())
    );
  // Bound and a member of the mDNS group on our interface, or why not.
  const joined = await new Promise<string | undefined>((resolve) => {
    let problem = "cannot join the multicast group";
    mdns.on("warning", (error: Error & { code?: string }) => {
      problem = `cannot join the multicast group on ${address}: ${error.code ?? error.message}`;
    });
    mdns.on("networkInterface", () => problem = "");
    // Permanent: the package reports a bind failure twice, and an unheard error would crash us.
    mdns.on("error", (error: Error & { code?: string }) => resolve(bindProblem(error)));
    mdns.once("ready", () => resolve(problem || undefined));
  });
  if (joined !== undefined) {
    mdns.destroy();
    unavailable(joined);
    return undefined;
  }
  const onLink = onLinkTest(address);
  mdns.on("query", (query, sender) => {
    if (!onLink(sender.address)) return; // §11: only the local link may ask
    const answers: Record[] = [];
    const additionals: Record[] = [];
    for (const question of query.questions) {
      const answer = answerFor(live, question);
      answers.push(...answer.answers.filter((r) => !answers.includes(r)));
      additionals.push(...answer.additionals.filter((r) => !additionals.includes(r)));
    }
    if (!answers.length) return;
    // A "legacy" resolver (not from port 5353, e.g. dig) gets a unicast answer it can read.
    const legacy = sender.port !== MDNS_PORT;
    // §6.7: legacy answers carry the question, short TTLs and no cache-flush bit.
    const asLegacy = (r: Record): Record => ({ ...r, ttl: Math.min(r.ttl, 10), flush: false });
    const packet = {
      id: legacy ? query.id : 0,
      questions: legacy ? query.questions : [],
      answers: legacy ? answers.map(asLegacy) : answers,
      additionals: additionals.filter((r) => !answers.includes(r)).map((r) =>
        legacy ? asLegacy(r) : r
      ),
    };
    send(packet, legacy ? sender : undefined).catch(() => {/* the next query may work */});
  });
  try {
    for (let i = 0; i < ANNOUNCEMENTS; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      await send({ answers: live });
    }
  } catch (error) {
    mdns.destroy();
    const code = (error as { code?: string }).code;
    unavailable(code && code !== "UNKNOWN" ? code : "cannot send to the multicast group");
    return undefined;
  }
  log.debug(`announced on mDNS as ${options.serverId}.${SERVICE_TYPE}`);
  return {
    stop: async () => {
      await send({ answers: records({ ...options, address }, 0) }).catch(() => {});
      await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
    },
  };
}
