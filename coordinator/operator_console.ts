/**
 * The party's control panel in the terminal. With `--guests ask`, each unpaired client that
 * wants to play is announced in one line, numbered, with its name and short id; the operator
 * answers with a line: `a 1` (approve number 1), `r <id>` (revoke an approval), `l` (list).
 * Approvals are kept (approvals.ts) and sent to every worker.
 */
import type { Logger } from "../protocol/log.ts";
import type { Approvals } from "./approvals.ts";
import { shortId } from "./identity.ts";

export interface OperatorConsoleOptions {
  approvals: Approvals;
  log: Logger;
  /** The whole approved set changed: hand it to the workers. */
  onApprovals: (clientIds: string[]) => void;
}

interface Waiting {
  clientId: string;
  name: string;
}

const HELP = 'commands: "a N" approve waiting client N, "r ID" revoke an approval, "l" list';

export class OperatorConsole {
  #waiting = new Map<number, Waiting>();
  #next = 1;

  constructor(readonly options: OperatorConsoleOptions) {}

  /** A client waits for approval (one line, with what to type), or for pairing. */
  clientWaiting(clientId: string, name: string, needs: "approval" | "pairing" = "approval"): void {
    for (const [number, waiting] of this.#waiting) {
      if (waiting.clientId === clientId) this.#waiting.delete(number); // it reconnected
    }
    if (needs === "pairing") {
      return this.options.log.info(
        `"${name}" (id ${
          shortId(clientId)
        }) plays only for a server it is paired with: it is connected, silent`,
      );
    }
    const number = this.#next++;
    this.#waiting.set(number, { clientId, name });
    this.options.log.info(
      `[${number}] "${name}" (id ${
        shortId(clientId)
      }, not approved) wants to play: type "a ${number}" to let it`,
    );
  }

  clientGone(clientId: string): void {
    for (const [number, waiting] of this.#waiting) {
      if (waiting.clientId === clientId) this.#waiting.delete(number);
    }
  }

  /** Answers one line the operator typed; returns what was said back. */
  command(line: string): string {
    const [verb = "", argument = ""] = line.trim().split(/\s+/);
    const { approvals } = this.options;
    switch (verb.toLowerCase()) {
      case "":
        return "";
      case "a":
      case "approve": {
        const number = Number(argument);
        const waiting = this.#waiting.get(number) ??
          [...this.#waiting.values()].find((w) => argument && w.clientId.startsWith(argument));
        if (!waiting) return `no waiting client ${argument || "given"}: ${HELP}`;
        approvals.approve(waiting.clientId, waiting.name);
        this.clientGone(waiting.clientId);
        this.options.onApprovals(approvals.ids());
        return `approved "${waiting.name}" (id ${shortId(waiting.clientId)}): it plays now`;
      }
      case "r":
      case "revoke": {
        const revoked = argument ? approvals.revoke(argument) : undefined;
        if (!revoked) return `no single approval starts with "${argument}": type "l" to list them`;
        this.options.onApprovals(approvals.ids());
        return `revoked "${revoked.name}" (id ${shortId(revoked.clientId)})`;
      }
      case "l":
      case "list": {
        const waiting = [...this.#waiting].map(([n, w]) =>
          `  [${n}] "${w.name}" (id ${shortId(w.clientId)}) waits`
        );
        const approved = approvals.clients.map((c) => `  "${c.name}" (id ${c.clientId}) approved`);
        return [...waiting, ...approved].join("\n") || "no client waits and none is approved";
      }
      default:
        return `unknown command "${verb}": ${HELP}`;
    }
  }

  /** Reads the operator's lines until the input ends or `signal` aborts. */
  async run(input: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const reader = input.pipeThrough(new TextDecoderStream()).getReader();
    signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
    let pending = "";
    try {
      while (!signal.aborted) {
        const { value, done } = await reader.read();
        if (done) return;
        pending += value;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          const answer = this.command(line);
          if (answer) this.options.log.info(answer);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }
}
