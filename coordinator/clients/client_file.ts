/**
 * A list of clients kept in the settings folder as one owner-only JSON file (approvals,
 * pairings), so it lasts across restarts. Entries are keyed by client id; a damaged file is
 * a warning and counts as empty, never a reason to stop the party.
 */
import { readPrivateFile, writePrivateFile } from "../private_files.ts";

export interface ClientEntry {
  clientId: string;
  /** The name it gave (names are not identities: the id is). */
  name: string;
}

/** How one kind of entry is written to and read from the file. */
export interface EntryCodec<T extends ClientEntry> {
  toJson(entry: T): Record<string, unknown>;
  /** undefined for an entry that is not whole (skipped). */
  fromJson(json: Record<string, unknown>): T | undefined;
}

export class ClientFile<T extends ClientEntry> {
  #entries: T[];

  private constructor(
    readonly path: string | undefined,
    readonly codec: EntryCodec<T>,
    entries: T[],
  ) {
    this.#entries = entries;
  }

  static load<T extends ClientEntry>(
    folder: string | undefined,
    fileName: string,
    codec: EntryCodec<T>,
    warn: (line: string) => void,
  ): ClientFile<T> {
    const path = folder ? `${folder}/${fileName}` : undefined;
    if (!path) return new ClientFile(undefined, codec, []);
    try {
      const text = readPrivateFile(path);
      if (text === undefined) return new ClientFile(path, codec, []);
      const data = JSON.parse(text) as { clients?: unknown };
      const clients = Array.isArray(data.clients) ? data.clients : [];
      const entries = clients.map((c) => typeof c === "object" && c ? codec.fromJson(c) : undefined)
        .filter((entry): entry is T => entry !== undefined);
      return new ClientFile(path, codec, entries);
    } catch (error) {
      warn(`Cannot read ${path} (${(error as Error).message}): it counts as empty`);
      return new ClientFile(path, codec, []);
    }
  }

  get entries(): readonly T[] {
    return this.#entries;
  }

  get(clientId: string): T | undefined {
    return this.#entries.find((entry) => entry.clientId === clientId);
  }

  /** Adds `entry`, replacing any for the same client. */
  put(entry: T): void {
    this.#entries = [...this.#entries.filter((e) => e.clientId !== entry.clientId), entry];
    this.#save();
  }

  remove(clientId: string): T | undefined {
    const entry = this.get(clientId);
    if (!entry) return undefined;
    this.#entries = this.#entries.filter((e) => e !== entry);
    this.#save();
    return entry;
  }

  /** The one entry whose id starts with `prefix`, if exactly one does. */
  find(prefix: string): T | undefined {
    const matches = this.#entries.filter((e) => prefix && e.clientId.startsWith(prefix));
    return matches.length === 1 ? matches[0] : undefined;
  }

  #save(): void {
    if (!this.path) return;
    const clients = this.#entries.map((entry) => this.codec.toJson(entry));
    writePrivateFile(this.path, JSON.stringify({ clients }, null, 2) + "\n");
  }
}
