/**
 * The floors for the listener benchmark: the least a Deno WebSocket server can do to give
 * listeners the same bytes as ours. It pre-encodes the demo loop with our encoders (so no
 * encoding at run time), answers the handshake and time probes, and keeps each listener up
 * to 5 s ahead as ours does. No send queues, no limits, no group, no workers.
 * - default (the per-chunk floor): `Deno.serve`'s WebSocket, every 60 ms the next chunk to
 *   everyone, one write each;
 * - `--batched` (the batched floor, the physical limit on this runtime): `node:net` with
 *   pre-framed messages, each listener topped up once per 960 ms (its slot of 96, one per 10 ms
 *   tick) with everything up to 5 s ahead in one write, the bytes of a batch built once for the
 *   listeners of a slot: the same batches ours sends.
 *
 * Run: deno run --unstable-net --v8-flags=--expose-gc --allow-net --allow-read --allow-env baseline_server.ts
 *        --port 8928 --codec opus [--reuse-port] [--batched]   (prints "listening <port>" when ready)
 */
import type { Socket } from "node:net";
import { listen } from "../../worker/edge/http_front.ts";
import { encodeFrame, WebSocketConnection } from "../../worker/edge/websocket.ts";
import { concat } from "../../protocol/concat.ts";
import { parseArgs } from "node:util";
import { renderDemo } from "../../coordinator/sources/demo.ts";
import { frameAudioChunk } from "../../protocol/audio_chunk.ts";
import type { AudioFormat, Codec } from "../../protocol/messages.ts";
import { CHUNK_FRAMES } from "../../protocol/pcm.ts";
import { createEncoder } from "../../worker/encoders/negotiate.ts";
import type { Encoder } from "../../worker/encoders/encoder.ts";
import { OpusEncoder } from "../../worker/encoders/opus_encoder.ts";

const CHUNK_US = 60_000;
const LEAD_US = 5_000_000;
const FIRST_LEAD_US = 250_000;
const MIN_USEFUL_LEAD_US = 50_000;
const LOOP_CHUNKS = 256; // 15.36 s, the demo loop

const nowUs = () => Math.round(performance.now() * 1000);

async function encodeLoop(codec: Codec) {
  const format: AudioFormat = { codec, sample_rate: 48_000, channels: 2, bit_depth: 16 };
  const encoder: Encoder = createEncoder(format);
  const codecHeader = encoder.codecHeader;
  if (encoder instanceof OpusEncoder) await encoder.ready;
  const pcm = renderDemo(0, LOOP_CHUNKS * CHUNK_FRAMES);
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < LOOP_CHUNKS + 1; i++) {
    const chunk = new Uint8Array(
      pcm.buffer,
      (i % LOOP_CHUNKS) * CHUNK_FRAMES * 4,
      CHUNK_FRAMES * 4,
    );
    for (const unit of encoder.encode(chunk)) payloads.push(unit.payload);
  }
  return { format, codecHeader, payloads: payloads.slice(0, LOOP_CHUNKS) };
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "0" },
    codec: { type: "string", default: "opus" },
    "reuse-port": { type: "boolean", default: false },
    batched: { type: "boolean", default: false },
  },
});
const { format, codecHeader, payloads } = await encodeLoop(values.codec as Codec);
// Pre-encoding left garbage; collect it so the idle memory the benchmark reads is the floor's.
(globalThis as { gc?: () => void }).gc?.();

interface Chunk {
  bytes: Uint8Array;
  playAtUs: number;
}
const listeners = new Set<WebSocket>();
let future: Chunk[] = [];
let next = 0;
const startUs = nowUs() + FIRST_LEAD_US;

/** Produces chunks up to 5 s ahead and sends each new one to every listener. */
function tick() {
  const now = nowUs();
  while (startUs + next * CHUNK_US <= now + LEAD_US) {
    const playAtUs = startUs + next * CHUNK_US;
    const chunk = { bytes: frameAudioChunk(playAtUs, payloads[next % LOOP_CHUNKS]), playAtUs };
    next++;
    future.push(chunk);
    for (const socket of listeners) socket.send(chunk.bytes);
  }
  future = future.filter((c) => c.playAtUs + CHUNK_US > now);
}
if (!values.batched) setInterval(tick, CHUNK_US / 1000);

const json = (type: string, payload: unknown) => JSON.stringify({ type, payload });

/** Answers a time probe; a hello gets the welcome and stream/start, then `joined` runs. */
function answer(text: string, send: (text: string) => void, joined: () => void): void {
  const receivedUs = nowUs();
  const message = JSON.parse(text);
  if (message.type === "client/time") {
    send(json("server/time", {
      client_transmitted: message.payload.client_transmitted,
      server_received: receivedUs,
      server_transmitted: nowUs(),
    }));
  } else if (message.type === "client/hello") {
    send(json("server/hello", {
      server_id: "baseline",
      name: "Baseline",
      version: 1,
      active_roles: ["player@v1"],
      connection_reason: "playback",
    }));
    send(json("stream/start", { player: { ...format, codec_header: codecHeader } }));
    joined();
  }
}

function accept(request: Request): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("baseline", { status: 426 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onmessage = (event) =>
    answer(event.data, (text) => socket.send(text), () => {
      const now = nowUs();
      for (const chunk of future) {
        if (chunk.playAtUs >= now + MIN_USEFUL_LEAD_US) socket.send(chunk.bytes);
      }
      listeners.add(socket);
    });
  socket.onclose = () => listeners.delete(socket);
  return response;
}

if (values.batched) await serveBatched();
else {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    reusePort: values["reuse-port"],
    onListen: () => {},
  }, accept);
  console.log(`listening ${server.addr.port}`);
}

/** The batched floor: node:net, framed once, one write per listener per batch period. */
async function serveBatched() {
  const SLOTS = 96;
  const TICK_MS = 10;
  interface Listener {
    ws: WebSocketConnection;
    socket: Socket;
    /** Index of the next chunk it has not been sent. */
    next: number;
  }
  const slots = Array.from({ length: SLOTS }, () => new Set<Listener>());
  const framed = new Map<number, Uint8Array>(); // chunk index -> its WebSocket frame
  const frameOf = (index: number) => {
    let frame = framed.get(index);
    if (!frame) {
      const playAtUs = startUs + index * CHUNK_US;
      framed.set(
        index,
        frame = encodeFrame(0x2, frameAudioChunk(playAtUs, payloads[index % LOOP_CHUNKS])),
      );
    }
    return frame;
  };
  /** Chunks [from, to) as one buffer, built once per tick for everyone of the slot. */
  const batches = new Map<string, Uint8Array>();
  const batch = (from: number, to: number) => {
    const key = `${from}:${to}`;
    let bytes = batches.get(key);
    if (!bytes) {
      bytes = new Uint8Array(0);
      for (let i = from; i < to; i++) bytes = concat(bytes, frameOf(i));
      batches.set(key, bytes);
    }
    return bytes;
  };
  const upTo = (now: number) => Math.floor((now + LEAD_US - startUs) / CHUNK_US) + 1;
  const topUp = (listener: Listener, now: number) => {
    const to = upTo(now);
    if (to <= listener.next) return;
    listener.socket.write(batch(listener.next, to));
    listener.next = to;
  };
  let tickCount = 0;
  let joined = 0;
  setInterval(() => {
    const now = nowUs();
    batches.clear();
    for (const listener of slots[tickCount++ % SLOTS]) topUp(listener, now);
    const oldest = Math.floor((now - startUs) / CHUNK_US) - 1;
    for (const index of framed.keys()) if (index < oldest) framed.delete(index);
  }, TICK_MS);
  const front = await listen({
    hostname: "127.0.0.1",
    port: Number(values.port),
    reusePort: values["reuse-port"],
    handler: () => new Response("baseline", { status: 426 }),
    websocketPath: "/sendspin",
    onError: () => {},
    onWebSocket: (socket, already) => {
      const ws = new WebSocketConnection(socket, 1 << 20);
      const slot = slots[joined++ % SLOTS];
      const listener: Listener = { ws, socket, next: 0 };
      ws.start({
        onText: (text) =>
          answer(text, (reply) => ws.send(reply), () => {
            const now = nowUs();
            listener.next = Math.max(0, Math.ceil((now + MIN_USEFUL_LEAD_US - startUs) / CHUNK_US));
            topUp(listener, now); // a joiner's first batch at once
            slot.add(listener);
          }),
        onBinary: () => {},
        onTooBig: () => {},
        onClosed: () => slot.delete(listener),
      }, already);
    },
  });
  console.log(`listening ${front.port}`);
}
