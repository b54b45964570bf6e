/**
 * Batched sends: a listener is topped up with every chunk within its lead in one socket write;
 * listeners sent the same run share one buffer; a batch never reaches past the client's
 * capacity nor carries a late chunk; a time answer is never stuck behind held audio; a format
 * switch cuts the batch at the right chunk.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { WebSocketConnection } from "../../worker/edge/websocket.ts";
import { LegacyConnection, legacyHandlers } from "../../worker/dialects/legacy.ts";
import { Group } from "../../worker/group.ts";
import { Session } from "../../worker/session.ts";
import { SendQueue, SOCKET_HIGH_WATER_BYTES } from "../../worker/send_queue.ts";
import type { FramedChunk } from "../../worker/future_audio.ts";
import { Logger } from "../../protocol/log.ts";
import { CHUNK_BYTES, DEMO_FORMAT } from "../../protocol/pcm.ts";
import { playerHello } from "../support/legacy_session.ts";

/** A TCP socket that keeps what is written, one entry per write. */
function fakeSocket() {
  const writes: Uint8Array[] = [];
  const socket = {
    writes,
    writableLength: 0,
    on: () => socket,
    resume: () => socket,
    write: (bytes: Uint8Array) => void writes.push(bytes),
    end: () => {},
    destroy: () => {},
  };
  return socket;
}

function chunk(id: number, playAtUs: number): FramedChunk {
  return {
    segment: 1,
    playAtUs,
    endUs: playAtUs + 60_000,
    payload: new Uint8Array([id]),
    bytes: new Uint8Array([4, id, id, id]),
  };
}

Deno.test("one flush is one write; listeners sent the same run share that very buffer", () => {
  const clock = { nowUs: () => 0 };
  const sockets = [fakeSocket(), fakeSocket()];
  const queues = sockets.map((socket) => {
    const connection = new LegacyConnection(
      new WebSocketConnection(socket as unknown as Socket, 1 << 20),
    );
    return new SendQueue(connection, clock, 5_000_000);
  });
  const run = Array.from({ length: 16 }, (_, i) => chunk(i, 4_000_000 + i * 60_000));
  for (const queue of queues) {
    for (const c of run) queue.push(c);
    queue.flush();
  }
  assert.equal(sockets[0].writes.length, 1, "16 chunks, one write");
  assert.equal(sockets[0].writes[0].byteLength, 16 * (2 + 4), "each chunk its own frame");
  assert.equal(sockets[0].writes[0], sockets[1].writes[0], "the same object, built once");
});

Deno.test("a batch never reaches past the client's lead, nor carries a late chunk", () => {
  let nowUs = 1_000_000;
  const batches: number[][] = [];
  const queue = new SendQueue(
    {
      sendAudio: (chunks) => void batches.push(chunks.map((c) => c.payload[0])),
      bufferedAmount: () => 0,
    },
    { nowUs: () => nowUs },
    2_000_000,
  );
  for (let i = 0; i < 60; i++) queue.push(chunk(i, 880_000 + i * 60_000)); // 0, 1 are late
  queue.flush();
  const first = batches[0];
  assert.equal(first[0], 2, "chunks 0 and 1 ended before now: never sent");
  assert.equal(queue.dropped, 2);
  const lastPlayAt = 880_000 + first.at(-1)! * 60_000;
  assert.ok(lastPlayAt - nowUs <= 2_000_000, "nothing beyond the client's 2 s");
  assert.ok(lastPlayAt - nowUs > 2_000_000 - 60_000, "but everything up to it");
  nowUs += 960_000;
  queue.flush();
  assert.equal(batches[1].length, 16, "a batch period later: the next 16 chunks, one write");
});

Deno.test("a time answer goes out at once while the audio waits for the socket to drain", () => {
  const clock = { nowUs: () => 0 };
  const group = new Group({ serverId: "s", name: "Party", clock, log: new Logger("CRITICAL") });
  const socket = fakeSocket();
  const websocket = new WebSocketConnection(socket as unknown as Socket, 1 << 20);
  const session = new Session(new LegacyConnection(websocket), group);
  const input = legacyHandlers(session, clock);
  const format = { codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16 };
  input.onText(playerHello([format]));
  group.onChunk({
    segment: 1,
    playAtUs: 2_000_000,
    format: DEMO_FORMAT,
    pcm: new Uint8Array(CHUNK_BYTES),
  });
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(2));
  const sentBefore = socket.writes.length;
  socket.writableLength = SOCKET_HIGH_WATER_BYTES + 1; // the client reads slowly
  group.onChunk({
    segment: 1,
    playAtUs: 2_060_000,
    format: DEMO_FORMAT,
    pcm: new Uint8Array(CHUNK_BYTES),
  });
  session.flush(0);
  assert.equal(socket.writes.length, sentBefore, "audio held back");
  input.onText(JSON.stringify({ type: "client/time", payload: { client_transmitted: 7 } }));
  assert.match(
    text(socket.writes.at(-1)!),
    /"server\/time"/,
    "the time answer is next on the wire",
  );
  socket.writableLength = 0;
  session.flush(0);
  assert.equal(socket.writes.at(-1)![0], 0x82, "then the held audio, a binary frame");
});

Deno.test("a format switch mid-batch: no chunk of the old format after the new stream/start", async () => {
  const clock = { us: 0, nowUs: () => clock.us };
  const group = new Group({ serverId: "s", name: "Party", clock, log: new Logger("CRITICAL") });
  const sent: { text?: string; audio?: Uint8Array }[] = [];
  const session = new Session(
    new LegacyConnection({
      send: (data: string | Uint8Array) =>
        void sent.push(typeof data === "string" ? { text: data } : { audio: data }),
      sendBatch: (messages: readonly Uint8Array[]) =>
        void sent.push(...messages.map((audio) => ({ audio }))),
      bufferedAmount: () => 0,
      close: () => {},
    }),
    group,
  );
  const input = legacyHandlers(session, clock);
  const pcm = { codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16 };
  const flac = { codec: "flac", sample_rate: 48_000, channels: 2, bit_depth: 16 };
  input.onText(playerHello([pcm, flac]));
  for (let i = 0; i < 40; i++) {
    group.onChunk({
      segment: 1,
      playAtUs: 4_000_000 + i * 60_000, // the last ones beyond the 5 s lead: still queued
      format: DEMO_FORMAT,
      pcm: new Uint8Array(CHUNK_BYTES),
    });
  }
  input.onText(
    JSON.stringify({ type: "stream/request-format", payload: { player: { codec: "flac" } } }),
  );
  await new Promise((resolve) => setTimeout(resolve, 300)); // the new encoder's backlog, in slices
  clock.us = 2_000_000;
  for (let tick = 0; tick < 200; tick++) group.flush();
  const starts = sent.flatMap((s, i) => s.text?.includes('"stream/start"') ? [i] : []);
  assert.equal(
    starts.length,
    2,
    JSON.stringify(sent.filter((s) => s.text).map((s) => s.text!.slice(0, 90))),
  );
  const switched = sent[starts[1]].text!;
  assert.match(switched, /"codec":"flac"/);
  const after = sent.slice(starts[1] + 1).filter((s) => s.audio);
  assert.ok(after.length > 0, "flac audio follows");
  // PCM chunks are 11,532 bytes; FLAC chunks of silence are far smaller.
  assert.ok(after.every((s) => s.audio!.byteLength < 11_000), "no PCM chunk after the switch");
});
