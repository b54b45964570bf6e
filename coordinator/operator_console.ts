/**
 * The party's control panel in the terminal: each line the operator types goes to the
 * client desk (approve, pair, unpair ...; clients/client_desk.ts), whose answer is printed.
 */
import type { Logger } from "../protocol/log.ts";
import type { ClientDesk } from "./clients/client_desk.ts";

export class OperatorConsole {
  constructor(readonly desk: ClientDesk, readonly log: Logger) {}

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
          const { text } = this.desk.command(line);
          if (text) this.log.info(text);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }
}
