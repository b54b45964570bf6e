/**
 * One pairing attempt on one encrypted connection, server side (Sendspin pairing.md): the
 * Pairing PSK flow, and the Static and Dynamic Pairing Code flows with their CPace rounds.
 * The operator's part (a token, a code) comes from the coordinator; the attempt reports how
 * it goes (`onStage`) and ends by handing the connection back (`onOver`). A message out of
 * sequence or malformed is a protocol error: the connection closes without a word.
 */
import { randomBytes } from "node:crypto";
import type { Json } from "../../protocol/messages.ts";
import { encodeBase64Url } from "../../protocol/noise/base64url.ts";
import { type PskChoice } from "../dialects/encrypted/identity.ts";
import type { PairingStage } from "../../protocol/ipc.ts";
import type { CodeFormat, PairMethod } from "../../protocol/pairing/methods.ts";
import {
  type ClientPairingMessage,
  PairingProtocolError,
  parsePairingMessage,
} from "../../protocol/pairing/messages.ts";
import { CpaceInitiator, tagsEqual } from "../../protocol/pake/cpace.ts";
import {
  commitB,
  derivePairingCode,
  pairingPrs,
  pakeSid,
  unwrap,
  wrapKey,
} from "../../protocol/pairing/binding.ts";
import type { PairingActivation, PairingInbox } from "../dialects/encrypted/connection.ts";
import type { SuiteName } from "../../protocol/noise/suites.ts";
import { type PskCategory, SENTINEL_PSK } from "../../protocol/noise/psk.ts";

/** How long the server waits for `client/pair-init` after its pairing activation. */
export const PAIR_INIT_TIMEOUT_MS = 120_000;
/**
 * The whole attempt's bound. The client's own is 2 minutes from its first message and it says
 * so with `attempt_timeout`; ours is a little longer, for a client that never does.
 */
export const ATTEMPT_TIMEOUT_MS = 150_000;
/** The client aborts after 20 failed rounds (pairing.md); the server stops there too. */
export const MAX_ROUNDS = 20;

const AD_SERVER = new TextEncoder().encode("server");
const AD_CLIENT = new TextEncoder().encode("client");

/** What the attempt needs of the connection. */
export interface PairingLink {
  readonly suite: SuiteName;
  readonly handshakeHash: Uint8Array;
  readonly matched: { category: PskCategory };
  pairingInbox?: PairingInbox;
  activatePairing(pairing: PairingActivation): number;
  rehandshake(choice: PskChoice, then: () => void): void;
  send(type: string, payload: Record<string, unknown>): void;
  closeSilently(): void;
}

export interface PairingAttemptOptions {
  link: PairingLink;
  method: PairMethod;
  /** The dynamic code's format (the client offers it). */
  format?: CodeFormat;
  /** `pairing_psk`: the pairing PSK from the client's token; static: its 8 digits. */
  secret?: Uint8Array | string;
  /** The session leaves pairing (its own activation); called once, last. */
  onOver: () => void;
  /** Reported to the coordinator (and the operator). `psk` with "paired". */
  onStage: (stage: PairingStage, detail?: string, psk?: Uint8Array) => void;
  timeouts?: { pairInitMs?: number; attemptMs?: number };
}

type State =
  | { kind: "rekeying" }
  | { kind: "activated"; index: number }
  | { kind: "awaiting-finalize" } // pairing PSK: pair-finalize follows pair-init at once
  | { kind: "awaiting-code"; round: number }
  | { kind: "auth-sent"; round: number; cpace: CpaceInitiator; sid: Uint8Array }
  | { kind: "confirm-sent"; round: number; sid: Uint8Array; isk: Uint8Array; peerTag: Uint8Array }
  | { kind: "confirmed"; sid: Uint8Array; isk: Uint8Array }
  | { kind: "saving"; psk: Uint8Array }
  | { kind: "over" };

export class PairingAttempt {
  #state: State = { kind: "rekeying" };
  #timer?: ReturnType<typeof setTimeout>;
  #attemptTimer?: ReturnType<typeof setTimeout>;
  #index = 0;
  /** Dynamic flow: the commitment, the server's nonce, the code the operator typed. */
  #commit?: Uint8Array;
  #nonceA?: Uint8Array;
  #code?: Uint8Array | string;

  constructor(readonly options: PairingAttemptOptions) {}

  get method(): PairMethod {
    return this.options.method;
  }

  get over(): boolean {
    return this.#state.kind === "over";
  }

  /**
   * Runs the attempt. The pairing PSK flow needs the connection keyed to that PSK, and a
   * paired connection may not enter pairing at all (messaging.md's allowed activity sets):
   * both re-handshake first, to the pairing PSK or to the Sentinel.
   */
  start(): void {
    const { link, method, secret } = this.options;
    if (method === "static_pairing_code") this.#code = secret as string;
    if (method === "pairing_psk" && link.matched.category !== "pr") {
      const choice: PskChoice = { psk: secret as Uint8Array, category: "pr" };
      link.rehandshake(choice, () => this.#activate());
    } else if (method !== "pairing_psk" && link.matched.category === "lt") {
      link.rehandshake({ psk: SENTINEL_PSK, category: "sn" }, () => this.#activate());
    } else this.#activate();
  }

  /** The operator typed the code the client shows (dynamic flow). Returns what to tell them. */
  enterCode(code: Uint8Array | string): string | undefined {
    const state = this.#state;
    if (state.kind !== "awaiting-code") {
      return "it is not showing a code now: wait for it to, then type the code";
    }
    this.#code = code;
    this.#sendAuth(state.round);
    return undefined;
  }

  /** The operator cancels: the client hears why, then the connection leaves pairing. */
  cancel(): void {
    if (this.over) return;
    if (this.#state.kind !== "rekeying") {
      this.options.link.send("pair/abort", { reason: "user_cancelled" });
    }
    this.#end("cancelled by you");
  }

  /** The coordinator kept the record: acknowledge it, then re-handshake to the new PSK. */
  saved(): void {
    const state = this.#state;
    if (state.kind !== "saving") return;
    this.#finish();
    const { link, onOver } = this.options;
    link.send("server/pair-finalize", {});
    link.rehandshake({ psk: state.psk, category: "lt" }, () => onOver());
  }

  /** The connection went away. */
  gone(): void {
    if (this.over) return;
    const during = this.#state.kind === "rekeying" && this.method === "pairing_psk";
    this.#end(
      during
        ? "it closed the connection on the re-handshake: the token's key is not its pairing key"
        : "it went away",
      { handBack: false },
    );
  }

  #activate(): void {
    const { link, method, format } = this.options;
    link.pairingInbox = (type, payload) => this.#receive(type, payload);
    this.#index = link.activatePairing(format ? { method, format } : { method });
    this.#state = { kind: "activated", index: this.#index };
    this.#timer = setTimeout(
      () => this.#end("it did not start pairing within 2 minutes"),
      this.options.timeouts?.pairInitMs ?? PAIR_INIT_TIMEOUT_MS,
    );
  }

  #receive(type: string, payload: Json): void {
    if (this.over) return; // leftovers in flight: silently discarded
    let message: ClientPairingMessage;
    try {
      message = parsePairingMessage(type, payload);
      this.#handle(message);
    } catch (error) {
      if (!(error instanceof PairingProtocolError)) throw error;
      this.#protocolError(error.message);
    }
  }

  #handle(message: ClientPairingMessage): void {
    const state = this.#state;
    if (message.type === "pair/abort") {
      return this.#end(`it ended the attempt (${message.reason ?? "no known reason"})`);
    }
    if (message.type === "client/pair-pending" || message.type === "client/pair-init") {
      if (message.pairingIndex < this.#index) return; // from an attempt superseded
      if (message.pairingIndex > this.#index) {
        throw new PairingProtocolError(`pairing_index ${message.pairingIndex} is ahead of ours`);
      }
    }
    switch (message.type) {
      case "client/pair-pending":
        if (state.kind !== "activated") break;
        return this.options.onStage("pending", message.message);
      case "client/pair-init":
        if (state.kind !== "activated") break;
        return this.#onInit(message.commitB);
      case "client/pair-auth":
        if (state.kind !== "auth-sent") break;
        return this.#onAuth(state, message.share);
      case "client/pair-retry":
        if (state.kind !== "confirm-sent" || this.method !== "dynamic_pairing_code") break;
        return this.#onRetry(state.round);
      case "client/pair-confirm":
        if (state.kind !== "confirm-sent") break;
        return this.#onConfirm(state, message.tag, message.wrappedNonceB);
      case "client/pair-finalize":
        if (state.kind === "awaiting-finalize" && message.longTermPsk) {
          return this.#save(message.longTermPsk);
        }
        if (state.kind === "confirmed" && message.wrappedPsk) {
          const key = wrapKey("psk", state.sid, state.isk);
          const psk = unwrap(this.options.link.suite, key, message.wrappedPsk);
          if (!psk) throw new PairingProtocolError("wrapped_psk does not decrypt");
          return this.#save(psk);
        }
        break;
    }
    throw new PairingProtocolError(`${message.type} out of sequence (${state.kind})`);
  }

  #onInit(commit: Uint8Array | undefined): void {
    clearTimeout(this.#timer);
    this.#attemptTimer = setTimeout(
      () => this.#end("it did not finish within the attempt's time"),
      this.options.timeouts?.attemptMs ?? ATTEMPT_TIMEOUT_MS,
    );
    switch (this.method) {
      case "pairing_psk":
        this.#state = { kind: "awaiting-finalize" };
        return;
      case "static_pairing_code":
        return this.#sendAuth(1);
      case "dynamic_pairing_code": {
        if (!commit) throw new PairingProtocolError("client/pair-init has no commit_B");
        this.#commit = commit;
        this.#nonceA = new Uint8Array(randomBytes(32));
        this.options.link.send("server/pair-init", { nonce_A: encodeBase64Url(this.#nonceA) });
        this.#state = { kind: "awaiting-code", round: 1 };
        return this.options.onStage("code", this.#codeDetail(1));
      }
    }
  }

  #sendAuth(round: number): void {
    const { link } = this.options;
    const sid = pakeSid(link.handshakeHash, this.#index, round);
    const cpace = new CpaceInitiator({ prs: pairingPrs(this.#code!), sid, ad: AD_SERVER });
    link.send("server/pair-auth", { pake_msg_1: encodeBase64Url(cpace.share) });
    this.#state = { kind: "auth-sent", round, cpace, sid };
  }

  #onAuth(state: Extract<State, { kind: "auth-sent" }>, share: Uint8Array): void {
    const result = state.cpace.finish(share, AD_CLIENT);
    if (!result) throw new PairingProtocolError("pake_msg_2 is a low-order point");
    this.options.link.send("server/pair-confirm", { server_kc: encodeBase64Url(result.ownTag) });
    this.#state = {
      kind: "confirm-sent",
      round: state.round,
      sid: state.sid,
      isk: result.isk,
      peerTag: result.peerTag,
    };
  }

  /** The client found our tag wrong (a mistyped code): a new round, the same code shown. */
  #onRetry(round: number): void {
    if (round >= MAX_ROUNDS) return this.#end(`the code did not match ${MAX_ROUNDS} times`);
    this.options.link.send("server/pair-init", {});
    this.#state = { kind: "awaiting-code", round: round + 1 };
    this.options.onStage("code", this.#codeDetail(round + 1));
  }

  #onConfirm(
    state: Extract<State, { kind: "confirm-sent" }>,
    tag: Uint8Array,
    wrappedNonceB: Uint8Array | undefined,
  ): void {
    if (!tagsEqual(tag, state.peerTag)) {
      this.options.link.send("pair/abort", { reason: "pairing_code_mismatch" });
      return this.#end("the code did not match");
    }
    if (this.method === "dynamic_pairing_code") {
      if (!wrappedNonceB) throw new PairingProtocolError("client/pair-confirm has no nonce");
      const key = wrapKey("nonce", state.sid, state.isk);
      const nonceB = unwrap(this.options.link.suite, key, wrappedNonceB);
      if (!nonceB) throw new PairingProtocolError("wrapped_nonce_B does not decrypt");
      if (!equal(commitB(nonceB), this.#commit!)) {
        throw new PairingProtocolError("nonce_B does not open commit_B");
      }
      const format = this.options.format ?? "digits";
      const derived = derivePairingCode(
        this.options.link.handshakeHash,
        this.#nonceA!,
        nonceB,
        format,
      );
      if (!sameCode(derived, this.#code!)) {
        throw new PairingProtocolError("the code is not bound to this connection");
      }
    }
    this.#state = { kind: "confirmed", sid: state.sid, isk: state.isk };
  }

  /** The "code" stage's detail: the round and how the code is shown, "2/digits". */
  #codeDetail(round: number): string {
    return `${round}/${this.options.format ?? "digits"}`;
  }

  #save(psk: Uint8Array): void {
    this.#state = { kind: "saving", psk };
    this.options.onStage("paired", undefined, psk);
  }

  #protocolError(why: string): void {
    this.#end(`it broke the pairing protocol (${why}): disconnected`, { handBack: false });
    this.options.link.closeSilently();
  }

  #finish(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#attemptTimer);
    this.#state = { kind: "over" };
    this.options.link.pairingInbox = undefined;
  }

  /** Ends without a pairing; the connection leaves pairing unless it is gone. */
  #end(why: string, { handBack = true } = {}): void {
    if (this.over) return;
    this.#finish();
    this.options.onStage("ended", why);
    if (handBack) this.options.onOver();
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function sameCode(derived: string | Uint8Array, entered: string | Uint8Array): boolean {
  if (typeof derived === "string" || typeof entered === "string") return derived === entered;
  return equal(derived, entered);
}
