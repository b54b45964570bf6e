/**
 * The operator's view of the encrypted clients: who is connected (numbered, so a line can
 * name one), who is approved, who is paired; and the commands that change it. Each line the
 * workers report becomes at most one console line; each command returns one answer. The
 * console (operator_console.ts) and the control socket (control/) both type into `command`.
 */
import type { Logger } from "../../protocol/log.ts";
import type { DownMessage, PairingStage } from "../../protocol/ipc.ts";
import type { ClientReport } from "../worker_pool.ts";
import { describeMethod, type PairMethod } from "../../protocol/pairing/methods.ts";
import { decodePairingToken, PairingTokenError } from "../../protocol/pairing/token.ts";
import { PairingCodeError, parseCodeInput } from "../../protocol/pairing/binding.ts";
import { encodeBase64Url } from "../../protocol/noise/base64url.ts";
import { shortId } from "../identity.ts";
import type { Approvals } from "./approvals.ts";
import type { Pairings } from "./pairings.ts";

export interface ClientDeskOptions {
  approvals: Approvals;
  pairings: Pairings;
  log: Logger;
  /** Sends approvals or pairings (the whole set) to every worker. */
  broadcast: (message: Extract<DownMessage, { type: "approvals" | "pairings" }>) => void;
  /** Sends a pairing step to the worker holding the client's connection. */
  sendTo: (worker: number, message: DownMessage) => void;
  /** Pairing tokens given at start (`--pair`): used when their client connects. */
  tokens?: string[];
}

/** What its connection does, as its worker last said. */
type Presence = "approval" | "pairing" | "playing";

interface Known {
  number: number;
  clientId: string;
  name: string;
  pairMethods: PairMethod[];
  /** Connected, and how; undefined when it left. */
  presence?: Presence;
  trust?: string;
  /**
   * The pairing attempt the operator started, until it ends. Apart from presence: a worker's
   * word on the connection, still on its way when the operator types, must not end it.
   */
  attempt?: PairMethod;
  /** The worker that holds its connection. */
  worker: number;
}

/** A command that cannot be done: its message says why, and what to type instead. */
class Refused extends Error {}

/** The answer to one command: what to say back, and whether it was done. */
export interface Answer {
  text: string;
  ok: boolean;
}

/** How a pairing attempt ended, for whoever asked for it (the control socket). */
export interface PairingOutcome {
  ok: boolean;
  line: string;
}

const HELP = 'commands: "l" list, "a N" approve, "p N [TOKEN|CODE]" pair, "c N CODE" the code ' +
  'it shows, "x N" cancel pairing, "i N" ignore, "r ID" revoke an approval, "u ID" unpair';

export class ClientDesk {
  #known = new Map<string, Known>();
  #byNumber = new Map<number, Known>();
  #next = 1;
  /** Pairing PSK tokens waiting for their client to connect, by client id. */
  #tokens = new Map<string, string>();
  #outcomes = new Map<string, ((outcome: PairingOutcome) => void)[]>();

  constructor(readonly options: ClientDeskOptions) {
    for (const token of options.tokens ?? []) {
      const { clientKey, pairingPsk } = decodePairingToken(token, "0");
      this.#tokens.set(encodeBase64Url(clientKey), encodeBase64Url(pairingPsk));
    }
  }

  // --- what the workers report ---

  onReport(report: ClientReport): void {
    switch (report.type) {
      case "client-waiting": {
        const { worker, clientId, name, needs, pairMethods } = report;
        return this.waiting(worker, clientId, name, needs, pairMethods);
      }
      case "client-joined": {
        const { worker, clientId, name, trust, pairMethods } = report;
        return this.joined(worker, clientId, name, trust, pairMethods);
      }
      case "client-left":
        return this.left(report.clientId);
      case "pairing": {
        const { worker, clientId, name, stage, detail, psk } = report;
        return this.pairing(worker, clientId, name, stage, detail, psk);
      }
    }
  }

  /** An unpaired client waits: for approval (`--guests ask`), or for pairing. */
  waiting(
    worker: number,
    clientId: string,
    name: string,
    needs: "approval" | "pairing",
    methods: PairMethod[],
  ): void {
    const known = this.#see(worker, clientId, name, methods, needs);
    if (this.#pairFromToken(known)) return;
    const { number } = known;
    const who = `[${number}] "${name}" (id ${shortId(clientId)}, ${this.#mark(known)})`;
    const pair = this.#pairHint(known);
    if (needs === "pairing") {
      return this.#say(
        `${who} plays only for a server it is paired with: it is connected, silent${
          pair ? `; ${pair}` : ""
        }`,
      );
    }
    this.#say(`${who} wants to play: type "a ${number}" to let it${pair ? `, or ${pair}` : ""}`);
  }

  /** A client plays (legacy clients too; only encrypted ones can be paired). */
  joined(worker: number, clientId: string, name: string, trust: string, methods: PairMethod[]) {
    if (trust === "legacy") return;
    const known = this.#see(worker, clientId, name, methods, "playing");
    known.trust = trust;
    this.#pairFromToken(known);
  }

  left(clientId: string): void {
    const known = this.#known.get(clientId);
    if (known) known.presence = known.attempt = undefined;
  }

  /** A worker's word on a pairing attempt. */
  pairing(
    worker: number,
    clientId: string,
    name: string,
    stage: PairingStage,
    detail?: string,
    psk?: string,
  ): void {
    const known = this.#known.get(clientId) ??
      this.#see(
        worker,
        clientId,
        name || this.options.pairings.get(clientId)?.name || "a client",
        [],
      );
    const who = `[${known.number}] "${known.name}"`;
    switch (stage) {
      case "pending":
        return this.#say(
          `${who} holds pairing back until someone acts on it${detail ? `: "${detail}"` : ""}`,
        );
      case "code": {
        const [round = "1", format = "digits"] = (detail ?? "").split("/");
        const again = round !== "1" ? `the code did not match (try ${round} of 20): ` : "";
        const entry = format === "qr_code"
          ? `the SP:1... token of the QR code it shows (c ${known.number} SP:1...)`
          : `the 6 digits (c ${known.number} 123-456)`;
        return this.#say(
          `${who} ${again}shows or speaks a pairing code now: type c ${known.number} and ${entry}`,
        );
      }
      case "note":
        return this.#say(`${who}: ${detail}`);
      case "paired":
        return this.#paired(known, psk!);
      case "ended":
        known.attempt = undefined;
        return this.#finish(known, {
          ok: false,
          line: `pairing ${who} ended: ${detail}; type "p ${known.number}" to try again`,
        });
      case "lost":
        return this.#say(
          `${who} (id ${shortId(clientId)}) lost its pairing with this server (reset, or paired ` +
            `with too many others): type "p ${known.number}" to pair it again`,
        );
    }
  }

  /** Resolves when the pairing attempt of `clientId` ends, either way. */
  outcome(clientId: string): Promise<PairingOutcome> {
    return new Promise((resolve) => {
      const waiting = this.#outcomes.get(clientId) ?? [];
      this.#outcomes.set(clientId, [...waiting, resolve]);
    });
  }

  // --- what the operator types ---

  /** Answers one line: what to say back (empty for nothing), and whether it was done. */
  command(line: string): Answer {
    try {
      return { text: this.#command(line), ok: true };
    } catch (error) {
      const expected = error instanceof Refused || error instanceof PairingTokenError ||
        error instanceof PairingCodeError;
      if (!expected) throw error;
      return { text: (error as Error).message, ok: false };
    }
  }

  #command(line: string): string {
    const [verb = "", first = "", ...rest] = line.trim().split(/\s+/);
    const second = rest.join("");
    {
      switch (verb.toLowerCase()) {
        case "":
          return "";
        case "l":
        case "list":
          return this.#list();
        case "a":
        case "approve":
          return this.#approve(first);
        case "r":
        case "revoke":
          return this.#revoke(first);
        case "p":
        case "pair":
          return this.#pair(first, second);
        case "c":
        case "code":
          return this.#code(first, second);
        case "x":
        case "cancel":
          return this.#cancel(first);
        case "i":
        case "ignore":
          return this.#ignore(first);
        case "u":
        case "unpair":
          return this.#unpair(first);
        default:
          throw new Refused(`unknown command "${verb}": ${HELP}`);
      }
    }
  }

  #approve(which: string): string {
    const known = this.#find(which);
    if (!known?.presence) throw new Refused(`no connected client ${which || "given"}: ${HELP}`);
    this.options.approvals.approve(known.clientId, known.name);
    this.#sendApprovals();
    return `approved "${known.name}" (id ${shortId(known.clientId)}): it may play without pairing`;
  }

  #revoke(prefix: string): string {
    const revoked = prefix ? this.options.approvals.revoke(prefix) : undefined;
    if (!revoked) {
      throw new Refused(`no single approval starts with "${prefix}": type "l" to list them`);
    }
    this.#sendApprovals();
    return `revoked "${revoked.name}" (id ${shortId(revoked.clientId)})`;
  }

  /**
   * `p N` pairs with the code method the client offers; `p N SP:0...` or `p SP:0...` with its
   * pairing token; `p N 1234-5678` with its fixed code.
   */
  #pair(first: string, second: string): string {
    if (/^sp:0/i.test(first) && !second) {
      return this.#pairWithToken(undefined, first);
    }
    const known = this.#find(first);
    if (!known?.presence) throw new Refused(`no connected client ${first || "given"}: ${HELP}`);
    if (/^sp:/i.test(second)) return this.#pairWithToken(known, second);
    const methods = known.pairMethods;
    if (second) {
      if (!methods.includes("static_pairing_code")) {
        throw new Refused(`"${known.name}" has no fixed code: type "p ${known.number}" alone`);
      }
      return this.#start(known, "static_pairing_code", parseCodeInput(second, "static"));
    }
    if (methods.includes("dynamic_pairing_code")) return this.#start(known, "dynamic_pairing_code");
    if (methods.includes("static_pairing_code")) {
      throw new Refused(
        `type p ${known.number} and ${
          describeMethod("static_pairing_code")
        } (p ${known.number} 1234-5678)`,
      );
    }
    throw new Refused(
      `"${known.name}" pairs only with ${
        describeMethod("pairing_psk")
      }: type "p ${known.number} SP:0..."`,
    );
  }

  #pairWithToken(known: Known | undefined, text: string): string {
    const token = decodePairingToken(text, "0");
    const clientId = encodeBase64Url(token.clientKey);
    if (known && known.clientId !== clientId) {
      throw new Refused(
        `that token is for another client (id ${shortId(clientId)}), ` +
          `not "${known.name}" (id ${shortId(known.clientId)})`,
      );
    }
    const target = known ?? this.#known.get(clientId);
    const secret = encodeBase64Url(token.pairingPsk);
    if (!target?.presence) {
      this.#tokens.set(clientId, secret);
      return `the client with id ${
        shortId(clientId)
      } is not connected: it is paired when it connects`;
    }
    return this.#start(target, "pairing_psk", secret);
  }

  #start(known: Known, method: PairMethod, secret?: string): string {
    known.attempt = method;
    this.options.sendTo(known.worker, {
      type: "pair",
      clientId: known.clientId,
      method,
      ...(secret !== undefined ? { secret } : {}),
    });
    return `pairing "${known.name}" (id ${shortId(known.clientId)}) with ${describeMethod(method)}`;
  }

  #code(which: string, text: string): string {
    const known = this.#find(which);
    if (!known?.attempt) {
      throw new Refused(`no pairing under way with ${which || "a client"}: type "p N" first`);
    }
    // Digits (with spaces or hyphens) are a typed code; anything else a scanned QR token.
    const code = /^[\d\s-]+$/.test(text)
      ? parseCodeInput(text, "dynamic")
      : encodeBase64Url(decodePairingToken(text, "1").code);
    this.options.sendTo(known.worker, { type: "pair-code", clientId: known.clientId, code });
    return "";
  }

  #cancel(which: string): string {
    const known = this.#find(which);
    if (!known?.attempt) {
      throw new Refused(`no pairing under way with ${which}`);
    }
    this.options.sendTo(known.worker, { type: "pair-cancel", clientId: known.clientId });
    return "";
  }

  #ignore(which: string): string {
    const known = this.#find(which);
    if (!known) throw new Refused(`no client ${which || "given"}: ${HELP}`);
    this.#tokens.delete(known.clientId);
    return `ignoring "${known.name}": it stays connected and silent until you "a" or "p" it`;
  }

  #unpair(prefix: string): string {
    const record = this.options.pairings.unpair(this.#find(prefix)?.clientId ?? prefix);
    if (!record) {
      throw new Refused(`no single paired client starts with "${prefix}": type "l" to list them`);
    }
    this.options.broadcast({ type: "pairings", clients: this.options.pairings.forWorkers() });
    return `unpaired "${record.name}" (id ${shortId(record.clientId)}): it must be paired again`;
  }

  #list(): string {
    const lines: string[] = [];
    for (const known of this.#known.values()) {
      const where = known.presence === undefined
        ? "not connected"
        : known.attempt
        ? "pairing"
        : known.presence === "playing"
        ? "playing"
        : known.presence === "pairing"
        ? "waits to be paired"
        : "waits for approval";
      lines.push(
        `  [${known.number}] "${known.name}" (id ${known.clientId}) ${this.#mark(known)}, ${where}`,
      );
    }
    for (const record of this.options.pairings.records) {
      if (this.#known.has(record.clientId)) continue;
      lines.push(`  "${record.name}" (id ${record.clientId}) paired, not connected`);
    }
    for (const approved of this.options.approvals.clients) {
      if (this.#known.has(approved.clientId)) continue;
      lines.push(`  "${approved.name}" (id ${approved.clientId}) approved, not connected`);
    }
    return lines.join("\n") || "no encrypted client is connected, paired or approved";
  }

  // --- inside ---

  #paired(known: Known, psk: string): void {
    const { pairings, approvals } = this.options;
    pairings.add(known.clientId, known.name, psk, known.attempt ?? "pairing_psk");
    known.attempt = undefined;
    this.#tokens.delete(known.clientId);
    if (approvals.discard(known.clientId)) this.#sendApprovals();
    this.options.broadcast({ type: "pairings", clients: pairings.forWorkers() });
    this.options.sendTo(known.worker, { type: "pair-saved", clientId: known.clientId });
    known.presence = "playing";
    known.trust = "paired";
    this.#finish(known, {
      ok: true,
      line: `paired "${known.name}" (id ${shortId(known.clientId)}): it plays now, and after ` +
        "restarts, until you unpair it",
    });
  }

  #finish(known: Known, outcome: PairingOutcome): void {
    this.#say(outcome.line);
    for (const resolve of this.#outcomes.get(known.clientId) ?? []) resolve(outcome);
    this.#outcomes.delete(known.clientId);
  }

  /** A token given before the client came: pair it now. */
  #pairFromToken(known: Known): boolean {
    const secret = this.#tokens.get(known.clientId);
    if (!secret || !known.pairMethods.includes("pairing_psk")) return false;
    this.#tokens.delete(known.clientId);
    this.#say(this.#start(known, "pairing_psk", secret));
    return true;
  }

  #see(
    worker: number,
    clientId: string,
    name: string,
    methods: PairMethod[],
    presence?: Presence,
  ): Known {
    let known = this.#known.get(clientId);
    if (!known) {
      known = { number: this.#next++, clientId, name, pairMethods: methods, worker };
      this.#known.set(clientId, known);
      this.#byNumber.set(known.number, known);
    }
    known.worker = worker;
    known.name = name || known.name;
    if (methods.length) known.pairMethods = methods;
    if (presence) known.presence = presence;
    return known;
  }

  /** By number, or by the start of its id. */
  #find(which: string): Known | undefined {
    if (/^\d+$/.test(which)) return this.#byNumber.get(Number(which));
    const matches = [...this.#known.values()].filter((k) => which && k.clientId.startsWith(which));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** Paired, approved, or neither: said plainly, so a familiar name cannot pass for a known one. */
  #mark(known: Known): string {
    if (this.options.pairings.get(known.clientId)) return "paired";
    if (this.options.approvals.has(known.clientId)) return "approved";
    return "not paired, not approved";
  }

  #pairHint(known: Known): string | undefined {
    const n = known.number;
    const methods = known.pairMethods;
    if (methods.includes("dynamic_pairing_code")) {
      return `type "p ${n}" to pair it (it then shows or speaks a code)`;
    }
    if (methods.includes("static_pairing_code")) {
      return `type "p ${n}" and the fixed 8-digit code printed on it to pair it (p ${n} 1234-5678)`;
    }
    if (methods.includes("pairing_psk")) {
      return `type "p ${n}" and its pairing token to pair it (p ${n} SP:0...)`;
    }
    return undefined;
  }

  #sendApprovals(): void {
    this.options.broadcast({ type: "approvals", clientIds: this.options.approvals.ids() });
  }

  #say(line: string): void {
    this.options.log.info(line);
  }
}
