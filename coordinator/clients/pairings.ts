/**
 * The pairing records: one per paired client, its long-term PSK with its client id
 * (pairing.md "Pairing Records"), kept beside the server's identity, owner-only. Every worker
 * is handed the whole set (they may not read files) and references a client's PSK in its
 * handshake; a record lasts until the operator unpairs the client.
 */
import type { PairedClient } from "../../protocol/worker_config.ts";
import type { PairMethod } from "../../protocol/pairing/methods.ts";
import { type ClientEntry, ClientFile } from "./client_file.ts";

export const PAIRINGS_FILE = "paired-clients.json";

export interface Pairing extends ClientEntry {
  /** base64url of the 32-byte long-term PSK: secret. */
  psk: string;
  method: PairMethod;
  pairedAt: string;
}

export class Pairings {
  private constructor(readonly file: ClientFile<Pairing>) {}

  static load(folder: string | undefined, warn: (line: string) => void): Pairings {
    return new Pairings(ClientFile.load(folder, PAIRINGS_FILE, {
      toJson: (p) => ({
        client_id: p.clientId,
        name: p.name,
        long_term_psk: p.psk,
        method: p.method,
        paired_at: p.pairedAt,
      }),
      fromJson: (p) =>
        typeof p.client_id === "string" && typeof p.long_term_psk === "string" &&
          /^[A-Za-z0-9_-]{43}$/.test(p.long_term_psk)
          ? {
            clientId: p.client_id,
            name: typeof p.name === "string" ? p.name : "",
            psk: p.long_term_psk,
            method: typeof p.method === "string" ? p.method as PairMethod : "pairing_psk",
            pairedAt: typeof p.paired_at === "string" ? p.paired_at : "",
          }
          : undefined,
    }, warn));
  }

  get records(): readonly Pairing[] {
    return this.file.entries;
  }

  /** What the workers need: id and PSK of each. */
  forWorkers(): PairedClient[] {
    return this.file.entries.map(({ clientId, psk }) => ({ clientId, psk }));
  }

  get(clientId: string): Pairing | undefined {
    return this.file.get(clientId);
  }

  /** A new pairing replaces any earlier one of the client (it holds only the newest). */
  add(clientId: string, name: string, psk: string, method: PairMethod): void {
    this.file.put({ clientId, name, psk, method, pairedAt: new Date().toISOString() });
  }

  /** Removes the one record whose id starts with `prefix`; returns it, if exactly one did. */
  unpair(prefix: string): Pairing | undefined {
    const record = this.file.find(prefix);
    return record ? this.file.remove(record.clientId) : undefined;
  }
}
