/** The start-up banner: where to point a phone, as text and as a QR code. */
import { renderQr, type RenderQrOptions } from "./qr_terminal.ts";

const LOOPBACK = "127.0.0.1";

/** Interfaces that are rarely the room's network: containers, VMs, VPN tunnels. */
const VIRTUAL_INTERFACE =
  /^(docker|br-|veth|virbr|vboxnet|vmnet|lxc|lxd|cni|flannel|cali|kube|podman|tailscale|zt|utun|tun|tap|wg)/i;

type InterfaceInfo = Pick<Deno.NetworkInterfaceInfo, "family" | "name" | "address">;

/**
 * The IPv4 address phones in the room most likely reach us on, or "127.0.0.1".
 * Needs `--allow-sys=networkInterfaces`; without it (or on any error) gives "127.0.0.1".
 */
export function lanAddress(): string {
  try {
    return pickLanAddress(Deno.networkInterfaces());
  } catch (_error) {
    // Not allowed or not supported: the banner then says there is no network address.
    return LOOPBACK;
  }
}

/**
 * The best IPv4 address of `interfaces`: 192.168/16, then 10/8, then 172.16/12 (Docker's
 * bridge lives there), then any other; a physical interface before a virtual one; list
 * order breaks ties. Loopback and link-local (169.254/16) never; none left: "127.0.0.1".
 */
export function pickLanAddress(interfaces: readonly InterfaceInfo[]): string {
  let best: { address: string; rank: number } | undefined;
  for (const { family, name, address } of interfaces) {
    const octets = ipv4Octets(family, address);
    if (octets === undefined) continue;
    const [a, b] = octets;
    if (a === 127 || a === 0 || (a === 169 && b === 254)) continue;
    const range = a === 192 && b === 168
      ? 0
      : a === 10
      ? 1
      : a === 172 && b >= 16 && b <= 31
      ? 2
      : 3;
    const rank = range + (VIRTUAL_INTERFACE.test(name) ? 10 : 0);
    if (best === undefined || rank < best.rank) best = { address, rank };
  }
  return best?.address ?? LOOPBACK;
}

function ipv4Octets(family: string, address: string): number[] | undefined {
  if (family !== "IPv4" || !/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return undefined;
  const octets = address.split(".").map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

export interface FormatBannerOptions {
  /** How the QR code is drawn; default light on a dark terminal with a 2-module quiet zone. */
  qr?: RenderQrOptions;
  /** Lines about who may play and who the server is, shown before "Press Ctrl+C". */
  party?: string[];
}

/**
 * "Server running at <url>", the QR code of `url`, how to listen, "Press Ctrl+C to quit".
 * Lines joined by "\n", no trailing newline. A loopback URL gets no QR code: no phone
 * could open it.
 */
export function formatBanner(url: string, options: FormatBannerOptions = {}): string {
  const host = new URL(url).hostname;
  const loopback = host === "localhost" || host === "[::1]" || host.startsWith("127.");
  const lines = [`Server running at ${url}`, ""];
  if (loopback) {
    lines.push(
      "This address works only on this machine (no network address, or --host is loopback):",
      "open it in a browser here; phones need a network address.",
    );
  } else {
    lines.push(
      renderQr(url, options.qr),
      "",
      "Scan the QR code with a phone, or open the address in a browser, to listen.",
    );
  }
  lines.push(
    "Or connect with any Sendspin client.",
    ...(options.party ?? []),
    "Press Ctrl+C to quit",
  );
  return lines.join("\n");
}
