import assert from "node:assert/strict";
import { SendQueue, SOCKET_HIGH_WATER_BYTES } from "../../worker/send_queue.ts";

function setup(maxLeadUs = 5_000_000) {
  const clock = { us: 0, nowUs: () => clock.us };
  const socket = { sent: [] as number[], buffered: 0, writes: 0 };
  const queue = new SendQueue(
    {
      sendAudio: (chunks) => {
        socket.writes++;
        for (const chunk of chunks) socket.sent.push(chunk.bytes[0]);
      },
      bufferedAmount: () => socket.buffered,
    },
    clock,
    maxLeadUs,
  );
  const chunk = (id: number, playAtUs: number) => ({
    segment: 1,
    bytes: new Uint8Array([id]),
    payload: new Uint8Array(0),
    playAtUs,
    endUs: playAtUs + 60_000,
  });
  return { clock, socket, queue, chunk };
}

Deno.test("a chunk that would arrive late is dropped for that listener only", () => {
  const { clock, socket, queue, chunk } = setup();
  socket.buffered = SOCKET_HIGH_WATER_BYTES + 1; // socket busy: chunks wait
  queue.push(chunk(1, 100_000));
  queue.push(chunk(2, 200_000));
  clock.us = 170_000; // chunk 1 is over, chunk 2 still ahead
  socket.buffered = 0;
  queue.flush();
  assert.deepEqual(socket.sent, [2]);
  assert.equal(queue.dropped, 1);
});

Deno.test("chunks beyond the client's lead wait until they fit", () => {
  const { clock, socket, queue, chunk } = setup(1_000_000);
  queue.push(chunk(1, 500_000));
  queue.push(chunk(2, 1_500_000));
  assert.deepEqual(socket.sent, [], "nothing goes before a flush");
  queue.flush();
  assert.deepEqual(socket.sent, [1]);
  clock.us = 600_000;
  queue.flush();
  assert.deepEqual(socket.sent, [1, 2]);
});

Deno.test("a socket that stops draining is reported stalled after 5 s", () => {
  const { clock, socket, queue, chunk } = setup();
  socket.buffered = SOCKET_HIGH_WATER_BYTES * 2;
  queue.push(chunk(1, 10_000_000));
  assert.equal(queue.flush(), true);
  clock.us = 4_900_000;
  assert.equal(queue.flush(), true);
  clock.us = 5_100_000;
  assert.equal(queue.flush(), false);
});
