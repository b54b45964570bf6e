/**
 * A worker's side of pairing: the paired clients' long-term PSKs (the coordinator's records,
 * handed down), which the handshake references, and the attempts the operator starts on
 * connections this worker holds. An unpaired client's connection is re-keyed to the Sentinel
 * at once, so it plays only as far as an unpaired client may.
 */
import type { PairedClient } from "../../protocol/worker_config.ts";
import type { PairingStage } from "../../protocol/ipc.ts";
import type { PairMethod } from "../../protocol/pairing/methods.ts";
import { decodeBase64Url } from "../../protocol/noise/base64url.ts";
import { SENTINEL_PSK } from "../../protocol/noise/psk.ts";
import type { Logger } from "../../protocol/log.ts";
import type { PskChoice } from "../dialects/encrypted/identity.ts";
import { EncryptedConnection } from "../dialects/encrypted/connection.ts";
import type { Session } from "../session.ts";
import { PairingAttempt } from "./pairing_attempt.ts";

export interface PairingServiceOptions {
  /** The connected sessions of a client, newest last. */
  sessionsOf: (clientId: string) => Session[];
  report: (
    clientId: string,
    name: string,
    stage: PairingStage,
    detail?: string,
    psk?: Uint8Array,
  ) => void;
  log: Logger;
  /** Tests shorten the attempt's waits. */
  timeouts?: { pairInitMs?: number; attemptMs?: number };
}

export class PairingService {
  #records = new Map<string, Uint8Array>();
  #attempts = new Map<string, PairingAttempt>();

  constructor(readonly options: PairingServiceOptions) {}

  /** The PSK a client's handshake references: its pairing, else the Sentinel. */
  pskFor(clientId: string): PskChoice {
    const psk = this.#records.get(clientId);
    return psk ? { psk, category: "lt" } : { psk: SENTINEL_PSK, category: "sn" };
  }

  /** The coordinator's whole set of records now. */
  setRecords(clients: readonly PairedClient[]): void {
    const before = this.#records;
    this.#records = new Map(
      clients.map(({ clientId, psk }) => [clientId, decodeBase64Url(psk, { byteLength: 32 })]),
    );
    for (const clientId of before.keys()) {
      if (!this.#records.has(clientId)) this.#unpaired(clientId);
    }
  }

  /** The operator pairs `clientId` with `method`; `secret` as in the `pair` message. */
  start(clientId: string, method: PairMethod, secret?: string): void {
    const session = this.#encryptedSessions(clientId).at(-1);
    if (!session) return; // another worker holds it
    const name = session.displayName;
    const { report } = this.options;
    const offer = session.hello?.pair_offer;
    // Not started: "ended", so the coordinator stops waiting for this attempt.
    if (!offer?.methods.includes(method)) {
      return report(clientId, name, "ended", `it does not offer ${method} now`);
    }
    const running = this.#attempts.get(clientId);
    if (running && !running.over) {
      return report(clientId, name, "note", "it is already pairing: cancel that first");
    }
    const connection = session.connection as EncryptedConnection;
    const attempt = new PairingAttempt({
      link: connection,
      method,
      format: method === "dynamic_pairing_code"
        ? (offer.formats.includes("digits") ? "digits" : "qr_code")
        : undefined,
      secret: method === "pairing_psk" ? decodeBase64Url(secret ?? "", { byteLength: 32 }) : secret,
      onStage: (stage, detail, psk) => this.options.report(clientId, name, stage, detail, psk),
      onOver: () => {
        this.#attempts.delete(clientId);
        session.leavePairing();
      },
      timeouts: this.options.timeouts,
    });
    this.#attempts.set(clientId, attempt);
    session.onGone(() => {
      attempt.gone();
      if (this.#attempts.get(clientId) === attempt) this.#attempts.delete(clientId);
    });
    session.enterPairing(() => attempt.start());
  }

  /** The code the operator typed: the digits, or a QR code's 24 bytes in base64url. */
  code(clientId: string, code: string): void {
    const attempt = this.#attempts.get(clientId);
    if (!attempt) return;
    const entered = /^\d+$/.test(code) ? code : decodeBase64Url(code, { byteLength: 24 });
    const problem = attempt.enterCode(entered);
    if (problem) this.#say(clientId, "note", problem);
  }

  cancel(clientId: string): void {
    this.#attempts.get(clientId)?.cancel();
  }

  /** The coordinator kept the new record. */
  saved(clientId: string): void {
    this.#attempts.get(clientId)?.saved();
    this.#attempts.delete(clientId);
  }

  /** Its record was removed (unpair): its connections go back to the Sentinel PSK. */
  #unpaired(clientId: string): void {
    for (const session of this.#encryptedSessions(clientId)) {
      const connection = session.connection as EncryptedConnection;
      if (connection.matched.category !== "lt") continue;
      if (session.admitted) {
        session.group.leave(session);
        session.unadmit();
      }
      connection.rehandshake({ psk: SENTINEL_PSK, category: "sn" }, () => session.settle());
      this.options.log.info(`${session.displayName} is no longer paired: back to the Sentinel PSK`);
    }
  }

  #say(clientId: string, stage: PairingStage, detail: string): void {
    const name = this.#encryptedSessions(clientId).at(-1)?.displayName ?? clientId;
    this.options.report(clientId, name, stage, detail);
  }

  #encryptedSessions(clientId: string): Session[] {
    return this.options.sessionsOf(clientId).filter((session) =>
      session.connection instanceof EncryptedConnection && session.hello
    );
  }
}
