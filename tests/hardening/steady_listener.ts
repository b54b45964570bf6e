/**
 * The well-behaved listener the hardening tests keep beside their hostile clients: it must
 * get every chunk, in order, before it is due, whatever the others do.
 */
import assert from "node:assert/strict";
import type { RawClient } from "../support/raw_client.ts";

const CHUNK_US = 60_000;

/**
 * Every chunk after the first follows the previous one exactly, and each arrived before it
 * was due. The server in these tests runs in this process, so its clock is ours.
 */
export function assertContiguousAndOnTime(client: RawClient, minimumChunks: number): void {
  const chunks = client.chunks;
  assert.ok(chunks.length >= minimumChunks, `${chunks.length} chunks, expected ${minimumChunks}+`);
  for (let i = 1; i < chunks.length; i++) {
    assert.equal(chunks[i].playAtUs - chunks[i - 1].playAtUs, CHUNK_US, `gap before chunk ${i}`);
  }
  const late = chunks.filter((c) => c.playAtUs <= c.arrivedUs);
  assert.equal(late.length, 0, `${late.length} chunks arrived after they were due`);
}
