/**
 * The clients the operator approved to play without pairing (`--guests ask`), kept in the
 * settings folder (owner-only) so an approval lasts across restarts, until it is revoked or
 * the client is paired (pairing.md: approval is discarded on a successful pairing).
 */
import { type ClientEntry, ClientFile } from "./client_file.ts";

export const APPROVALS_FILE = "approved-clients.json";

export interface Approved extends ClientEntry {
  approvedAt: string;
}

export class Approvals {
  private constructor(readonly file: ClientFile<Approved>) {}

  static load(folder: string | undefined, warn: (line: string) => void): Approvals {
    return new Approvals(ClientFile.load(folder, APPROVALS_FILE, {
      toJson: (c) => ({ client_id: c.clientId, name: c.name, approved_at: c.approvedAt }),
      fromJson: (c) =>
        typeof c.client_id === "string"
          ? {
            clientId: c.client_id,
            name: typeof c.name === "string" ? c.name : "",
            approvedAt: typeof c.approved_at === "string" ? c.approved_at : "",
          }
          : undefined,
    }, warn));
  }

  get clients(): readonly Approved[] {
    return this.file.entries;
  }

  ids(): string[] {
    return this.file.entries.map((c) => c.clientId);
  }

  has(clientId: string): boolean {
    return this.file.get(clientId) !== undefined;
  }

  approve(clientId: string, name: string): void {
    if (this.has(clientId)) return;
    this.file.put({ clientId, name, approvedAt: new Date().toISOString() });
  }

  /** Revokes the one approval whose id starts with `prefix`; returns it, if exactly one did. */
  revoke(prefix: string): Approved | undefined {
    const approved = this.file.find(prefix);
    return approved ? this.file.remove(approved.clientId) : undefined;
  }

  /** Discards the approval of a client now paired; true if it had one. */
  discard(clientId: string): boolean {
    return this.file.remove(clientId) !== undefined;
  }
}
