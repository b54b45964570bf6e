// The client side of Sendspin pairing (pairing.md; messaging.md server/activate), written from
// the spec on @noble: the pairing PSK flow, the static and the dynamic pairing code flows with
// test-side CPace (../pake/cpace.ts) as party B. client.ts feeds it server/activate and the
// pairing messages; it answers through `host` and records what it saw.
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { CPaceAbort, type CPaceKeys, respond, tagsEqual } from "../pake/cpace.ts";
import { encodeToken } from "../pairing/token.ts";
import { utf8 } from "../noise/hex.ts";
import { joinBytes, type TestSuiteName } from "../noise/responder.ts";
import type { HeldPsks, MatchedPsk } from "./handshake.ts";
import { decodeBase64Url, encodeBase64Url } from "./ids.ts";
import type { PairingOptions } from "./options.ts";

export type PairMethod = "pairing_psk" | "static_pairing_code" | "dynamic_pairing_code";
export type PairAbortReason =
  | "attempt_timeout"
  | "concurrent_attempt"
  | "method_not_supported"
  | "pairing_code_mismatch"
  | "user_cancelled";

/** A completed pairing: what the client persisted. */
export interface PairingRecord {
  method: PairMethod;
  longTermPsk: Uint8Array;
  serverId: string;
}

/** What the pairing behaviour needs of its client. */
export interface PairingHost {
  send(type: string, payload: Record<string, unknown>): void;
  /** A protocol error (pairing.md): close the WebSocket without any message. */
  closeSilently(): void;
  readonly faults: string[];
  readonly suite: TestSuiteName;
  readonly psks: HeldPsks;
  readonly unpairedAccess: boolean;
  matchedPsk(): MatchedPsk | undefined;
  handshakeHash(): Uint8Array;
  rehandshakes(): number;
  serverId(): string;
}

/** pairing.md "Rounds": rounds since the last verified server_kc before the client aborts. */
export const ROUND_LIMIT = 20;
const PAIRING_MESSAGES = [
  "server/pair-init",
  "server/pair-auth",
  "server/pair-confirm",
  "server/pair-finalize",
  "pair/abort",
];

type Phase =
  | "pending" // client/pair-pending sent, client/pair-init held back
  | "await-pair-init" // dynamic: waiting for server/pair-init (first round, or after a retry)
  | "await-auth" // waiting for server/pair-auth
  | "await-confirm" // client/pair-auth sent, waiting for server/pair-confirm
  | "finalized"; // client/pair-finalize sent, waiting for server/pair-finalize

interface Attempt {
  method: PairMethod;
  format?: "digits" | "qr_code";
  index: number;
  phase: Phase;
  longTermPsk: Uint8Array;
  round: number;
  nonceB?: Uint8Array;
  /** The pairing code as CPace's PRS (dynamic: once derived). */
  prs?: Uint8Array;
  cpace?: { sid: Uint8Array; keys: CPaceKeys };
}

const random32 = () => crypto.getRandomValues(new Uint8Array(32));
const uint32be = (n: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
};
const flipBit = (bytes: Uint8Array) => {
  const out = bytes.slice();
  out[0] ^= 0x01;
  return out;
};

/** SHA-256("sendspin-pair-commit-v1" || nonce_B). */
export const commitOf = (nonceB: Uint8Array): Uint8Array =>
  sha256(joinBytes(utf8("sendspin-pair-commit-v1"), nonceB));

/** The CPace sid: "sendspin-pair-pake-v1" || h || uint32be(pairing_index) || uint32be(round). */
export const pairingSid = (h: Uint8Array, index: number, round: number): Uint8Array =>
  joinBytes(utf8("sendspin-pair-pake-v1"), h, uint32be(index), uint32be(round));

/** The dynamic pairing code's digest, SHA-256(label || h || nonce_A || nonce_B). */
export const codeDigest = (h: Uint8Array, nonceA: Uint8Array, nonceB: Uint8Array): Uint8Array =>
  sha256(joinBytes(utf8("sendspin-pairing-code-derive-v1"), h, nonceA, nonceB));

/** The code as shown ("123456", or a version-1 token) and as CPace's PRS. */
export function deriveCode(
  digest: Uint8Array,
  format: "digits" | "qr_code",
): { shown: string; prs: Uint8Array } {
  if (format === "qr_code") {
    const code = digest.slice(0, 24);
    return { shown: encodeToken("1", code), prs: code };
  }
  const value = digest.reduce((n, byte) => (n << 8n) | BigInt(byte), 0n) % 1_000_000n;
  const shown = value.toString().padStart(6, "0");
  return { shown, prs: utf8(shown) };
}

/** K_wrap = SHA-256(label || sid || ISK); AEAD of the suite, zero nonce, empty AD: 48 bytes. */
export function wrap(
  suite: TestSuiteName,
  label: "sendspin-pair-psk-wrap-v1" | "sendspin-pair-nonce-wrap-v1",
  sid: Uint8Array,
  isk: Uint8Array,
  value: Uint8Array,
): Uint8Array {
  const key = sha256(joinBytes(utf8(label), sid, isk));
  const nonce = new Uint8Array(12);
  const aead = suite === "25519_AESGCM_SHA256" ? gcm(key, nonce) : chacha20poly1305(key, nonce);
  return aead.encrypt(value);
}

/** The inverse of wrap (stand-in servers); throws on a bad tag. */
export function unwrap(
  suite: TestSuiteName,
  label: "sendspin-pair-psk-wrap-v1" | "sendspin-pair-nonce-wrap-v1",
  sid: Uint8Array,
  isk: Uint8Array,
  wrapped: Uint8Array,
): Uint8Array {
  const key = sha256(joinBytes(utf8(label), sid, isk));
  const nonce = new Uint8Array(12);
  const aead = suite === "25519_AESGCM_SHA256" ? gcm(key, nonce) : chacha20poly1305(key, nonce);
  return aead.decrypt(wrapped);
}

/** client/hello.supported_pair_methods for these options. */
export function supportedPairMethods(options: PairingOptions = {}): Record<string, unknown> {
  const methods: Record<string, unknown> = { pairing_psk: {} };
  const code = options.code;
  if (code?.kind === "static") methods.static_pairing_code = { locations: ["device"] };
  if (code?.kind === "dynamic") {
    methods.dynamic_pairing_code = {
      out_channels: ["display"],
      formats: code.formats ?? ["digits"],
    };
  }
  return methods;
}

/**
 * Which activity sets messaging.md allows for the matched PSK, and whether active_roles may be
 * non-empty: a sentence naming the breach, or undefined for an admissible activation.
 */
export function inadmissible(
  activities: unknown[],
  roles: string[],
  matched: MatchedPsk | undefined,
  unpairedAccess: boolean,
): string | undefined {
  const paired = matched === "lt";
  const psk = matched === "sentinel-fallback" ? "sn" : matched;
  if (paired && activities.includes("pairing")) {
    return `declares 'pairing' on a connection keyed by the long-term PSK`;
  }
  const unknown = activities.filter((a) => a !== "playback" && a !== "pairing");
  if (unknown.length) return `declares unknown activities ${JSON.stringify(unknown)}`;
  if (paired) return undefined;
  if (activities.includes("playback") && !unpairedAccess) {
    return `declares 'playback' on a ${psk}-keyed connection while unpaired access is disabled`;
  }
  if (roles.length && !unpairedAccess) {
    return `activates ${roles} on a ${psk}-keyed connection while unpaired access is disabled`;
  }
  return undefined;
}

export class PairingBehaviour {
  /** Codes emitted by the dynamic flow, in order: "123456" or "SP:1...". */
  readonly codes: string[] = [];
  readonly records: PairingRecord[] = [];
  readonly abortsReceived: string[] = [];
  readonly abortsSent: string[] = [];
  readonly token: string;
  #attempt?: Attempt;
  /** After the client's own pair/abort: pairing messages are discarded until server/activate. */
  #aborted = false;
  #index = 0;
  #indexEpoch = 0;
  /** Rounds since the last verified server_kc (pairing.md "Rounds"), across attempts. */
  #failedRounds = 0;
  #codeCursor = 0;
  #codeWaiters: (() => void)[] = [];

  constructor(
    readonly host: PairingHost,
    readonly options: PairingOptions,
    readonly pairingPsk: Uint8Array,
    staticPublicKey: Uint8Array,
  ) {
    this.token = encodeToken("0", joinBytes(staticPublicKey, pairingPsk));
  }

  /** Every server/activate, after client.ts applied it. */
  onActivate(payload: Record<string, unknown>, roles: string[]): void {
    // An activation ends any attempt; after client/pair-finalize too, persisting nothing. An
    // abandoned dynamic attempt counts toward the round limit once its code was being emitted.
    const abandoned = this.#attempt;
    if (abandoned?.round && abandoned.phase !== "finalized") this.#failedRounds++;
    this.#attempt = undefined;
    this.#aborted = false;
    const activities: unknown[] = Array.isArray(payload.activities) ? payload.activities : [];
    const breach = inadmissible(
      activities,
      roles,
      this.host.matchedPsk(),
      this.host.unpairedAccess,
    );
    if (breach) this.host.faults.push(`server/activate ${breach}: ${JSON.stringify(payload)}`);
    if (!activities.includes("pairing")) return;
    if (this.host.rehandshakes() !== this.#indexEpoch) {
      this.#indexEpoch = this.host.rehandshakes();
      this.#index = 0; // pairing_index counts since the last Noise handshake
    }
    this.#index++;
    if (roles.length && !activities.includes("playback")) {
      this.host.faults.push(`the pairing server/activate has active_roles ${roles}, not []`);
    }
    const problem = this.#unsupported(payload.pairing);
    if (problem) {
      if (problem.fault) this.host.faults.push(problem.fault);
      return this.#abort("method_not_supported");
    }
    this.#start(payload.pairing as { method: PairMethod; format?: "digits" | "qr_code" });
  }

  /** A pairing message from the server; false if `type` is not one. */
  onMessage(type: string, payload: Record<string, unknown>): boolean {
    if (!PAIRING_MESSAGES.includes(type)) return false;
    if (type === "pair/abort") {
      this.abortsReceived.push(String(payload.reason));
      this.#attempt = undefined;
      return true;
    }
    if (this.#aborted) return true; // in flight before our abort: discarded silently
    const attempt = this.#attempt;
    if (!attempt) return this.#protocolError(`${type} with no pairing attempt in progress`), true;
    if (type === "server/pair-init") this.#onPairInit(attempt, payload);
    else if (type === "server/pair-auth") this.#onPairAuth(attempt, payload);
    else if (type === "server/pair-confirm") this.#onPairConfirm(attempt, payload);
    else this.#onPairFinalize(attempt);
    return true;
  }

  /** Sends client/pair-init for an attempt held back by `holdBack` (and resets the round limit). */
  releasePending(): void {
    this.#failedRounds = 0;
    const attempt = this.#attempt;
    if (attempt?.phase !== "pending") {
      throw new Error(`Cannot release: no held-back pairing attempt (${this.describe()})`);
    }
    this.#sendInit(attempt);
  }

  /** pair/abort with `reason` (e.g. "attempt_timeout", "user_cancelled"). */
  abort(reason: PairAbortReason): void {
    this.#abort(reason);
  }

  /** The next emitted code not yet taken by this method, waiting up to `timeoutMs`. */
  async nextCode(timeoutMs: number, closed: () => boolean): Promise<string> {
    const end = performance.now() + timeoutMs;
    while (this.#codeCursor >= this.codes.length) {
      if (closed()) throw new Error(`Cannot wait for a pairing code: closed (${this.describe()})`);
      const left = end - performance.now();
      if (left <= 0) {
        throw new Error(`No pairing code after ${timeoutMs} ms (${this.describe()})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#codeWaiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return this.codes[this.#codeCursor++];
  }

  describe(): string {
    const a = this.#attempt;
    const now = a ? `${a.method} #${a.index} ${a.phase} round ${a.round}` : "no attempt";
    return `pairing: ${now}; codes ${this.codes.length}; records ${this.records.length}; ` +
      `aborts sent [${this.abortsSent}] received [${this.abortsReceived}]`;
  }

  #unsupported(pairing: unknown): { fault?: string } | undefined {
    if (typeof pairing !== "object" || pairing === null) {
      return { fault: "the pairing server/activate has no pairing object" };
    }
    const { method, format } = pairing as Record<string, unknown>;
    const matched = this.host.matchedPsk();
    const offered = supportedPairMethods(this.options);
    if (typeof method !== "string" || !(method in offered)) {
      return {
        fault: `server/activate picks pairing method ${method}, which the client does not offer`,
      };
    }
    if ((method === "pairing_psk") !== (matched === "pr")) {
      return {
        fault: `server/activate picks ${method} on a connection whose matched PSK is ${matched} ` +
          "(pairing_psk if and only if the pairing PSK matched)",
      };
    }
    if (method === "dynamic_pairing_code") {
      const formats = (offered.dynamic_pairing_code as { formats: string[] }).formats;
      if (typeof format !== "string") {
        return { fault: "dynamic_pairing_code activation without a format" };
      }
      if (!formats.includes(format)) return {}; // not offered: the spec's own abort, no fault
    } else if (format !== undefined) {
      return { fault: `a ${method} activation carries format ${JSON.stringify(format)}` };
    }
    return undefined;
  }

  #start({ method, format }: { method: PairMethod; format?: "digits" | "qr_code" }) {
    const attempt: Attempt = {
      method,
      format,
      index: this.#index,
      phase: "pending",
      longTermPsk: random32(),
      round: 0,
    };
    this.#attempt = attempt;
    if (method === "pairing_psk") return this.#sendInit(attempt);
    const holdMessage = this.options.holdBack ??
      (this.#failedRounds >= ROUND_LIMIT
        ? "Too many wrong codes: confirm on the device"
        : undefined);
    if (holdMessage !== undefined) {
      const pending: Record<string, unknown> = { pairing_index: attempt.index };
      if (holdMessage) pending.message = holdMessage;
      return this.host.send("client/pair-pending", pending);
    }
    this.#sendInit(attempt);
  }

  #sendInit(attempt: Attempt) {
    const tamper = this.options.tamper;
    const init: Record<string, unknown> = {
      pairing_index: tamper === "future_index" ? attempt.index + 1 : attempt.index,
    };
    if (attempt.method === "dynamic_pairing_code") {
      attempt.nonceB = random32();
      // "commit": the commitment opens to another nonce than the one revealed
      init.commit_B = encodeBase64Url(commitOf(tamper === "commit" ? random32() : attempt.nonceB));
    }
    this.host.send("client/pair-init", init);
    if (tamper === "second_init") this.host.send("client/pair-init", init);
    if (attempt.method === "pairing_psk") {
      attempt.phase = "finalized";
      this.host.send("client/pair-finalize", {
        long_term_psk: encodeBase64Url(attempt.longTermPsk),
      });
      return;
    }
    attempt.phase = attempt.method === "dynamic_pairing_code" ? "await-pair-init" : "await-auth";
  }

  #onPairInit(attempt: Attempt, payload: Record<string, unknown>) {
    if (attempt.method !== "dynamic_pairing_code") {
      return this.#protocolError(`server/pair-init in the ${attempt.method} flow`);
    }
    if (attempt.phase !== "await-pair-init") {
      return this.#protocolError(`server/pair-init while ${attempt.phase}`);
    }
    const first = attempt.round === 0;
    if (first) {
      const nonceA = this.#bytes(payload.nonce_A, 32, "server/pair-init nonce_A");
      if (!nonceA) return;
      const digest = codeDigest(this.host.handshakeHash(), nonceA, attempt.nonceB!);
      const code = deriveCode(digest, attempt.format!);
      attempt.prs = code.prs;
      this.codes.push(code.shown);
    } else if (payload.nonce_A !== undefined) {
      return this.#protocolError(
        `server/pair-init with a second nonce_A in round ${attempt.round + 1}`,
      );
    } else {
      this.codes.push(this.codes[this.codes.length - 1]); // the same code, emitted again
    }
    attempt.round++;
    attempt.phase = "await-auth";
    for (const wake of this.#codeWaiters.splice(0)) wake();
  }

  #onPairAuth(attempt: Attempt, payload: Record<string, unknown>) {
    if (attempt.method === "pairing_psk" || attempt.phase !== "await-auth") {
      const before = attempt.phase === "pending" ? " before client/pair-init" : "";
      return this.#protocolError(
        `server/pair-auth${before} in the ${attempt.method} flow while ${attempt.phase}`,
      );
    }
    const ya = this.#bytes(payload.pake_msg_1, 32, "server/pair-auth pake_msg_1");
    if (!ya) return;
    const round = attempt.method === "static_pairing_code" ? 1 : attempt.round;
    const sid = pairingSid(this.host.handshakeHash(), attempt.index, round);
    const prs = attempt.prs ?? utf8((this.options.code as { code: string }).code);
    let result;
    try {
      result = respond({ prs, sid, ada: utf8("server"), adb: utf8("client") }, ya);
    } catch (error) {
      if (!(error instanceof CPaceAbort)) throw error;
      return this.#protocolError(`server/pair-auth: ${error.message}`);
    }
    attempt.cpace = { sid, keys: result };
    attempt.phase = "await-confirm";
    const lowOrder = new Uint8Array(32);
    lowOrder[0] = 1; // u1 of draft-21's low-order list
    const share = this.options.tamper === "low_order_share" ? lowOrder : result.yb;
    this.host.send("client/pair-auth", { pake_msg_2: encodeBase64Url(share) });
  }

  #onPairConfirm(attempt: Attempt, payload: Record<string, unknown>) {
    if (attempt.phase !== "await-confirm" || !attempt.cpace) {
      return this.#protocolError(
        `server/pair-confirm in the ${attempt.method} flow while ${attempt.phase}`,
      );
    }
    const ta = this.#bytes(payload.server_kc, 64, "server/pair-confirm server_kc");
    if (!ta) return;
    const { sid, keys } = attempt.cpace;
    if (!tagsEqual(ta, keys.ta)) {
      this.#failedRounds++;
      attempt.cpace = undefined;
      const retry = attempt.method === "dynamic_pairing_code" && this.#failedRounds < ROUND_LIMIT;
      if (!retry) return this.#abort("pairing_code_mismatch");
      attempt.phase = "await-pair-init";
      return this.host.send("client/pair-retry", {});
    }
    this.#failedRounds = 0;
    const tamper = this.options.tamper;
    const suite = this.host.suite;
    const confirm: Record<string, unknown> = {
      client_kc: encodeBase64Url(tamper === "client_kc" ? flipBit(keys.tb) : keys.tb),
    };
    if (attempt.method === "dynamic_pairing_code") {
      const wrapped = wrap(suite, "sendspin-pair-nonce-wrap-v1", sid, keys.isk, attempt.nonceB!);
      confirm.wrapped_nonce_B = encodeBase64Url(
        tamper === "wrapped_nonce" ? flipBit(wrapped) : wrapped,
      );
    }
    this.host.send("client/pair-confirm", confirm);
    const wrappedPsk = wrap(suite, "sendspin-pair-psk-wrap-v1", sid, keys.isk, attempt.longTermPsk);
    attempt.phase = "finalized";
    this.host.send("client/pair-finalize", {
      wrapped_psk: encodeBase64Url(tamper === "wrapped_psk" ? flipBit(wrappedPsk) : wrappedPsk),
    });
  }

  #onPairFinalize(attempt: Attempt) {
    if (attempt.phase !== "finalized") {
      return this.#protocolError(
        `server/pair-finalize in the ${attempt.method} flow while ${attempt.phase}`,
      );
    }
    this.#attempt = undefined;
    const serverId = this.host.serverId();
    this.host.psks.longTerm = attempt.longTermPsk; // the server's re-handshake to it now matches
    this.host.psks.longTermServerId = serverId;
    this.records.push({ method: attempt.method, longTermPsk: attempt.longTermPsk, serverId });
  }

  /** A base64url field of `length` bytes, or a protocol error naming `what`. */
  #bytes(value: unknown, length: number, what: string): Uint8Array | undefined {
    try {
      return decodeBase64Url(String(value), length);
    } catch {
      this.#protocolError(`${what} is not ${length} bytes of base64url: ${JSON.stringify(value)}`);
    }
  }

  #abort(reason: PairAbortReason) {
    this.#attempt = undefined;
    this.#aborted = true;
    this.abortsSent.push(reason);
    this.host.send("pair/abort", { reason });
  }

  #protocolError(what: string) {
    this.host.faults.push(`pairing protocol error: ${what}`);
    this.#attempt = undefined;
    this.host.closeSilently();
  }
}
