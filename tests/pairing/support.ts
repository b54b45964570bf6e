/**
 * What the pairing tests share: a speaker that plays only for a server it is paired with
 * (the test-side encrypted client, which implements the client side of pairing.md on its
 * own crypto), and checks of what it was allowed to do.
 */
import assert from "node:assert/strict";
import { EncryptedClient, type EncryptedClientOptions } from "../support/encrypted/client.ts";
import type { HeldPsks } from "../support/encrypted/handshake.ts";
import type { PartyProcess } from "../support/party_process.ts";
import { until } from "../support/until.ts";

export const opts = { sanitizeOps: false, sanitizeResources: false };

/** One speaker: the same key (its identity) and the PSKs it holds, across reconnections. */
export class Speaker {
  readonly staticKey = crypto.getRandomValues(new Uint8Array(32));
  psks: HeldPsks = { pairing: crypto.getRandomValues(new Uint8Array(32)) };
  client?: EncryptedClient;

  constructor(readonly name: string, readonly options: EncryptedClientOptions = {}) {}

  async connect(url: string): Promise<EncryptedClient> {
    this.client = await EncryptedClient.connect(url, {
      name: this.name,
      staticKey: this.staticKey,
      unpairedAccess: false,
      psks: this.psks,
      ...this.options,
    });
    return this.client;
  }

  /** Keeps what it persisted (a pairing) for the next connection. */
  async disconnect(): Promise<void> {
    if (!this.client) return;
    this.psks = { ...this.client.psks };
    await this.client.close();
    this.client = undefined;
  }
}

/** It is connected and silent: nothing active, no playback declared, no more audio. */
export async function assertRefused(client: EncryptedClient): Promise<void> {
  await client.waitFor(
    "a server/activate with nothing active",
    () => client.activations.at(-1)?.activities?.toString() === "",
  );
  const heard = client.chunks.length;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const last = client.activations.at(-1)!;
  assert.deepEqual(last.activities, [], client.describe());
  assert.deepEqual(last.active_roles ?? [], [], client.describe());
  assert.equal(client.chunks.length, heard, `no audio: ${client.describe()}`);
}

/** It plays under its long-term PSK: playback declared and audio coming. */
export async function assertPlaysPaired(client: EncryptedClient, chunks = 10): Promise<void> {
  const start = client.chunks.length;
  await client.waitFor(
    `${chunks} audio chunks under the long-term PSK`,
    () => client.chunks.length >= start + chunks,
    15_000,
  );
  assert.equal(client.matchedPsk, "lt", client.describe());
  assert.deepEqual(client.activations.at(-1)?.activities, ["playback"], client.describe());
  assert.deepEqual(client.faults, [], client.describe());
}

/** Runs `fn`; a failure carries the party's last console lines, what the operator saw. */
export async function withConsole(
  party: PartyProcess,
  fn: () => void | Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    const tail = party.log().trimEnd().split("\n").slice(-25).join("\n");
    throw new Error(`${(error as Error).message}\nthe party's console, last lines:\n${tail}`, {
      cause: error,
    });
  }
}

/** Waits for a console line matching `pattern`; returns its console number if it has one. */
export async function consoleLine(party: PartyProcess, pattern: RegExp): Promise<string> {
  await until(`the console says ${pattern}`, () => pattern.test(party.log()), {
    ms: 15_000,
    seen: () => party.log(),
  });
  return pattern.exec(party.log())![0];
}

/** The console number the server gave the client named `name`. */
export async function numberOf(party: PartyProcess, name: string): Promise<number> {
  const line = await consoleLine(party, new RegExp(`\\[(\\d+)\\] "${name}"`));
  return Number(/\[(\d+)\]/.exec(line)![1]);
}

/** The pairing records file: owner-only, one record per client. */
export function records(home: string): { client_id: string; long_term_psk: string }[] {
  const path = `${home}/.config/sendspin/paired-clients.json`;
  assert.equal(Deno.statSync(path).mode! & 0o777, 0o600, "pairing records are owner-only");
  return JSON.parse(Deno.readTextFileSync(path)).clients;
}
