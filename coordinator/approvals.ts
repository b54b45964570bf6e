/**
 * The clients the operator approved to play without pairing (`--guests ask`), kept in the
 * settings folder (owner-only) so an approval lasts across restarts, until it is revoked.
 */
import { readPrivateFile, writePrivateFile } from "./private_files.ts";

export const APPROVALS_FILE = "approved-clients.json";

export interface Approved {
  clientId: string;
  /** The name it gave when approved (names are not identities: the id is). */
  name: string;
  approvedAt: string;
}

export class Approvals {
  #clients: Approved[];

  private constructor(readonly path: string | undefined, clients: Approved[]) {
    this.#clients = clients;
  }

  /** Reads the approvals in `folder`; a damaged file is a warning and counts as none. */
  static load(folder: string | undefined, warn: (line: string) => void): Approvals {
    const path = folder ? `${folder}/${APPROVALS_FILE}` : undefined;
    if (!path) return new Approvals(undefined, []);
    try {
      const text = readPrivateFile(path);
      if (text === undefined) return new Approvals(path, []);
      const data = JSON.parse(text) as { clients?: unknown };
      const clients = Array.isArray(data.clients) ? data.clients : [];
      return new Approvals(
        path,
        clients.filter((c) => typeof c?.client_id === "string").map((c) => ({
          clientId: c.client_id,
          name: typeof c.name === "string" ? c.name : "",
          approvedAt: typeof c.approved_at === "string" ? c.approved_at : "",
        })),
      );
    } catch (error) {
      warn(`Cannot read ${path} (${(error as Error).message}): no client counts as approved`);
      return new Approvals(path, []);
    }
  }

  get clients(): readonly Approved[] {
    return this.#clients;
  }

  ids(): string[] {
    return this.#clients.map((c) => c.clientId);
  }

  has(clientId: string): boolean {
    return this.#clients.some((c) => c.clientId === clientId);
  }

  approve(clientId: string, name: string): void {
    if (this.has(clientId)) return;
    this.#clients.push({ clientId, name, approvedAt: new Date().toISOString() });
    this.#save();
  }

  /** Revokes the one approval whose id starts with `prefix`; returns it, if exactly one did. */
  revoke(prefix: string): Approved | undefined {
    const matches = this.#clients.filter((c) => c.clientId.startsWith(prefix));
    if (matches.length !== 1) return undefined;
    this.#clients = this.#clients.filter((c) => c !== matches[0]);
    this.#save();
    return matches[0];
  }

  #save(): void {
    if (!this.path) return;
    const clients = this.#clients.map((c) => ({
      client_id: c.clientId,
      name: c.name,
      approved_at: c.approvedAt,
    }));
    writePrivateFile(this.path, JSON.stringify({ clients }, null, 2) + "\n");
  }
}
