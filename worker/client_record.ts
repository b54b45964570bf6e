/**
 * One client's record for `--summary`: kept only when the coordinator asks for it, since
 * hashing every listener's audio costs a little CPU per chunk.
 */
import { createHash } from "node:crypto";
import type { ClientSummary } from "../protocol/client_summary.ts";
import type { AudioSink } from "./send_queue.ts";
import type { FramedChunk } from "./future_audio.ts";

export class ClientRecord {
  hello: Record<string, unknown> = {};
  readonly formats: Record<string, unknown>[] = [];
  readonly metadata: Record<string, unknown>[] = [];
  readonly commands: Record<string, unknown>[] = [];
  #hash = createHash("sha256");
  #chunks = 0;
  #bytes = 0;

  /** `sink`, with every audio message it sends counted and hashed. */
  recording(sink: AudioSink): AudioSink {
    return {
      sendAudio: (chunks: readonly FramedChunk[]) => {
        sink.sendAudio(chunks);
        for (const chunk of chunks) {
          this.#hash.update(chunk.payload);
          this.#chunks++;
          this.#bytes += chunk.payload.byteLength;
        }
      },
      bufferedAmount: () => sink.bufferedAmount(),
    };
  }

  /** A server message the client was sent. */
  sent(type: string, payload: Record<string, unknown>): void {
    if (type === "stream/start" && payload.player) {
      this.formats.push(payload.player as Record<string, unknown>);
    }
    if (type === "server/state" && payload.metadata) {
      this.metadata.push(payload.metadata as Record<string, unknown>);
    }
  }

  summary(): ClientSummary {
    return {
      hello: this.hello,
      formats: this.formats,
      audio: { chunks: this.#chunks, bytes: this.#bytes, sha256: this.#hash.copy().digest("hex") },
      metadata: this.metadata,
      commands: this.commands,
    };
  }
}
