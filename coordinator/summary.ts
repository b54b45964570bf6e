/**
 * `--summary FILE`: what every client said and was sent, written as JSON when the server
 * stops, for a test harness to check against what its own client received. The file is
 * tried at start, so a path we cannot write fails before the party begins. Errors are one
 * line for a person.
 */
import type { ClientSummary } from "../protocol/client_summary.ts";
import { writePrivateFile } from "./private_files.ts";

export interface SummaryServer {
  name: string;
  /** The legacy dialect's server_id (the worker's own is this plus `-w<index>` without --server-id). */
  serverId: string;
  /** The encrypted dialect's server_id: the server's public key. */
  encryptedServerId: string;
}

export class Summary {
  readonly #path: string;
  readonly #server: SummaryServer;
  readonly #clients: ClientSummary[] = [];

  constructor(path: string, server: SummaryServer) {
    this.#path = path.includes("/") ? path : `./${path}`;
    this.#server = server;
    this.write(); // an empty summary now: a path we cannot write is said at start
  }

  add(client: ClientSummary): void {
    this.#clients.push(client);
  }

  write(): void {
    const text = JSON.stringify({ server: this.#server, clients: this.#clients }, null, 2);
    try {
      writePrivateFile(this.#path, `${text}\n`);
    } catch (error) {
      throw new Error(
        `Cannot write the summary to ${this.#path}: ${
          error instanceof Error ? error.message : error
        } (choose a file in a folder you may write)`,
      );
    }
  }
}
