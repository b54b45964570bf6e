/**
 * What one client said and was sent, for `--summary FILE` (a test harness checks the
 * server against what its client received). Workers keep it; the coordinator writes it.
 */
export interface ClientSummary {
  /** The client's `client/hello` payload, as the server understood it. */
  hello: Record<string, unknown>;
  /** Every `stream/start` player format, in order. */
  formats: Record<string, unknown>[];
  /** Audio messages sent, and the sha256 (hex) of their payloads (the encoded audio after
   * the binary header) concatenated in the order sent. */
  audio: { chunks: number; bytes: number; sha256: string };
  /** Every `server/state` metadata object sent, in order. */
  metadata: Record<string, unknown>[];
  /** Every `client/command` controller object received, in order. */
  commands: Record<string, unknown>[];
}
