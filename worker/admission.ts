/**
 * Who may play at this party. Legacy clients, paired clients and clients we dialled
 * (`--client`: being named is the approval) always may. An unpaired encrypted client needs
 * its operator's approval (the spec's rule): with `--guests open` running a party whose URL
 * is shared is that approval for everyone; with `--guests ask` the operator approves each
 * client, and the coordinator sends the approved set down.
 */
import type { GuestPolicy } from "../protocol/worker_config.ts";
import type { Trust } from "./dialects/connection.ts";

export class Admission {
  #approved: Set<string>;

  constructor(readonly guests: GuestPolicy, approved: readonly string[]) {
    this.#approved = new Set(approved);
  }

  /** The whole approved set, as the coordinator holds it now. */
  setApproved(clientIds: readonly string[]): void {
    this.#approved = new Set(clientIds);
  }

  /**
   * `unpairedAccess` is what the client said in its hello: one that plays only for a server
   * it is paired with would refuse playback here ("pairing_required"), so it waits instead.
   */
  admits(client: { trust: Trust; clientId: string; unpairedAccess?: boolean }): boolean {
    if (client.trust === "legacy" || client.trust === "paired") return true;
    // On the Sentinel PSK (dialled or not): only a client that admits unpaired access plays.
    if (client.unpairedAccess === false) return false;
    if (client.trust === "dialled") return true;
    return this.guests === "open" || this.#approved.has(client.clientId);
  }

  /** How the console marks a client, so a familiar name cannot pass for a known client. */
  mark(client: { trust: Trust; clientId: string }): string {
    if (client.trust !== "unpaired") return client.trust;
    return this.#approved.has(client.clientId)
      ? "approved"
      : this.guests === "open"
      ? "guest"
      : "unapproved";
  }
}
