/**
 * The coordinator-worker pipes: every message type of protocol/ipc.ts survives its encoding,
 * and the configuration frame is checked field by field. The samples are keyed by type, so a
 * message type added to DownMessage or UpMessage without a sample here does not compile.
 */
import assert from "node:assert/strict";
import {
  type DownMessage,
  encodeDown,
  encodeUp,
  MalformedFrameError,
  MAX_ARTWORK_BYTES,
  readDown,
  readUp,
  type UpMessage,
} from "../../protocol/ipc.ts";
import {
  checkWorkerConfig,
  type WorkerConfig,
  WorkerConfigError,
} from "../../protocol/worker_config.ts";

function streamOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(pieces);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** One sample of each message type, keyed by its type (each sample sets every field). */
type OnePerType<M extends { type: string }> = { [K in M["type"]]: Extract<M, { type: K }> };

/** A whole configuration, as the coordinator sends it (no field has a default). */
const CONFIG: WorkerConfig = {
  index: 1,
  name: "Garden party ☂",
  serverId: "sendspin-party-1a2b3c4d-w1",
  host: "127.0.0.1",
  port: 8928,
  reusePort: true,
  assetsDir: "/opt/sendspin/web/dist",
  logLevel: "DEBUG",
  opusBitrate: 96_000,
  maxClients: 250,
  dial: ["ws://192.168.1.40:8928/sendspin", "wss://speaker.local/sendspin"],
  identityKey: "pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk",
  guests: "ask",
  legacy: false,
  approved: ["zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk"],
  pairings: [{
    clientId: "zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk",
    psk: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
  }],
  recordClients: true,
};

const DOWN_SAMPLES: OnePerType<DownMessage> = {
  configure: { type: "configure", config: CONFIG },
  chunk: {
    type: "chunk",
    segment: 7,
    playAtUs: 123_456_789_012,
    format: { sampleRate: 44_100, bitDepth: 24, channels: 2 },
    pcm: new Uint8Array([1, 2, 3, 4, 5, 6]),
  },
  "now-playing": {
    type: "now-playing",
    nowPlaying: {
      atUs: 123_456_789_012,
      track: { title: "Song", artist: "Band", album: "Live", year: 1999, durationMs: 201_000 },
      positionMs: 0,
      playback: "playing",
      repeat: "all",
      shuffle: true,
      supported: ["pause", "next", "previous"],
      artworkPath: "/artwork/3fa9c1d2e4b5a697.jpg",
    },
  },
  artwork: {
    type: "artwork",
    key: "3fa9c1d2e4b5a697.jpg",
    mime: "image/jpeg",
    bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0xff, 0xd9]),
  },
  stopped: { type: "stopped" },
  "group-volume": { type: "group-volume", volume: 35 },
  players: { type: "players", count: 3, volume: 57, muted: false },
  cleared: { type: "cleared" },
  totals: { type: "totals", total: 3, perWorker: [1, 2], rejected: 7 },
  "clock-moved": { type: "clock-moved" },
  "clock-answer": { type: "clock-answer", sentUs: 5_123_456.5, coordinatorUs: 98_765_432_101 },
  approvals: { type: "approvals", clientIds: ["zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk"] },
  pairings: {
    type: "pairings",
    clients: [{
      clientId: "zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk",
      psk: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    }],
  },
  pair: { type: "pair", clientId: "zo060cy2M", method: "static_pairing_code", secret: "12345678" },
  "pair-code": { type: "pair-code", clientId: "zo060cy2M", code: "123456" },
  "pair-cancel": { type: "pair-cancel", clientId: "zo060cy2M" },
  "pair-saved": { type: "pair-saved", clientId: "zo060cy2M" },
  shutdown: { type: "shutdown" },
};
const DOWN: DownMessage[] = Object.values(DOWN_SAMPLES);

const UP_SAMPLES: OnePerType<UpMessage> = {
  listening: { type: "listening", worker: 0, port: 8927 },
  failed: { type: "failed", worker: 1, reason: "port 8928 is in use" },
  "client-joined": {
    type: "client-joined",
    worker: 0,
    clientId: "a",
    name: 'Phone "A"',
    trust: "approved",
    pairMethods: ["pairing_psk", "dynamic_pairing_code"],
  },
  "client-waiting": {
    type: "client-waiting",
    worker: 1,
    clientId: "b",
    name: "Kitchen",
    needs: "approval",
    pairMethods: ["pairing_psk"],
  },
  "client-left": { type: "client-left", worker: 0, clientId: "a", name: 'Phone "A"' },
  listeners: { type: "listeners", worker: 0, count: 2, rejected: 5 },
  error: { type: "error", worker: 1, message: "boom\nwith a second line" },
  command: { type: "command", worker: 1, clientId: "b", command: "next" },
  "client-summary": {
    type: "client-summary",
    worker: 0,
    summary: {
      hello: { client_id: "a", name: "Phone" },
      formats: [{ codec: "flac", sample_rate: 48_000, channels: 2, bit_depth: 16 }],
      audio: { chunks: 2, bytes: 3_000, sha256: "ab".repeat(32) },
      metadata: [{ title: "Song" }],
      commands: [{ command: "volume", volume: 20 }],
    },
  },
  "group-volume": { type: "group-volume", worker: 0, muted: true },
  players: { type: "players", worker: 1, count: 2, volumeSum: 130, muted: 1 },
  "clock-probe": { type: "clock-probe", worker: 1, sentUs: 1_234_567.25 },
  alive: { type: "alive", worker: 1 },
  pairing: {
    type: "pairing",
    worker: 0,
    clientId: "a",
    name: "Kitchen",
    stage: "paired",
    psk: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
  },
};
const UP: UpMessage[] = Object.values(UP_SAMPLES);

Deno.test("the samples cover every message type, each under its own name", () => {
  for (const [type, message] of Object.entries({ ...DOWN_SAMPLES, ...UP_SAMPLES })) {
    assert.equal(message.type, type);
  }
});

Deno.test("every downward message survives a round trip, even split into single bytes", async () => {
  const bytes = DOWN.map(encodeDown);
  assert.deepEqual(await collect(readDown(streamOf(bytes))), DOWN);
  const all = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of bytes) {
    all.set(b, offset);
    offset += b.byteLength;
  }
  const singles = [...all].map((b) => new Uint8Array([b]));
  assert.deepEqual(await collect(readDown(streamOf(singles))), DOWN);
});

Deno.test("a truncated or oversized downward frame is an error, not a guess", async () => {
  const frame = encodeDown(DOWN[0]);
  await assert.rejects(collect(readDown(streamOf([frame.subarray(0, 10)]))), MalformedFrameError);
  const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 1]);
  await assert.rejects(collect(readDown(streamOf([huge]))), MalformedFrameError);
  const badKind = new Uint8Array([0, 0, 0, 1, 99]);
  await assert.rejects(collect(readDown(streamOf([badKind]))), MalformedFrameError);
});

Deno.test("artwork over the frame limit is refused when encoded; a cut-short one is malformed", async () => {
  const big = new Uint8Array(MAX_ARTWORK_BYTES + 1);
  assert.throws(
    () => encodeDown({ type: "artwork", key: "a.jpg", mime: "image/jpeg", bytes: big }),
    RangeError,
  );
  const limit = new Uint8Array(MAX_ARTWORK_BYTES);
  const frame = encodeDown({ type: "artwork", key: "a.jpg", mime: "image/jpeg", bytes: limit });
  const [message] = await collect(readDown(streamOf([frame])));
  assert.equal(message.type === "artwork" && message.bytes.byteLength, MAX_ARTWORK_BYTES);
  const cut = new Uint8Array([0, 0, 0, 3, 3, 9, 0x61]); // key length 9, one byte of key
  await assert.rejects(collect(readDown(streamOf([cut]))), MalformedFrameError);
});

Deno.test("a chunk frame names its format; a format the timeline cannot carry is refused", async () => {
  const chunk = DOWN_SAMPLES.chunk as Extract<DownMessage, { type: "chunk" }>;
  const [back] = await collect(readDown(streamOf([encodeDown(chunk)])));
  assert.deepEqual(back, chunk);
  for (
    const format of [
      { sampleRate: 44_100, bitDepth: 20, channels: 2 },
      { sampleRate: 44_100, bitDepth: 16, channels: 6 },
      { sampleRate: 0, bitDepth: 16, channels: 2 },
    ]
  ) {
    const frame = encodeDown({ ...chunk, format } as DownMessage);
    await assert.rejects(collect(readDown(streamOf([frame]))), MalformedFrameError);
  }
  const ragged = encodeDown({ ...chunk, pcm: new Uint8Array(7) });
  await assert.rejects(collect(readDown(streamOf([ragged]))), MalformedFrameError);
});

Deno.test("the configuration frame arrives whole and passes the worker's check", async () => {
  const [message] = await collect(readDown(streamOf([encodeDown(DOWN_SAMPLES.configure)])));
  assert.equal(message.type, "configure");
  assert.deepEqual(checkWorkerConfig(message.type === "configure" && message.config), CONFIG);
});

Deno.test("every upward message survives a round trip; junk lines are reported", async () => {
  const junk: string[] = [];
  const text = new TextEncoder().encode("not json\n");
  const messages = await collect(
    readUp(streamOf([...UP.map(encodeUp), text]), (line) => junk.push(line)),
  );
  assert.deepEqual(messages, UP);
  assert.deepEqual(junk, ["not json"]);
  // Also when the lines arrive split anywhere, a byte at a time.
  const bytes = [...new Uint8Array(UP.flatMap((m) => [...encodeUp(m)]))];
  const singles = bytes.map((b) => new Uint8Array([b]));
  assert.deepEqual(await collect(readUp(streamOf(singles), (line) => junk.push(line))), UP);
  assert.deepEqual(junk, ["not json"]);
});

/** For each field, a value of the wrong type (or out of range, or not a level). */
const WRONG: { [K in keyof WorkerConfig]: unknown } = {
  index: "1",
  name: 5,
  serverId: 7,
  host: false,
  port: "8928",
  reusePort: "yes",
  assetsDir: ["/opt"],
  logLevel: "LOUD",
  opusBitrate: "96k",
  maxClients: null,
  dial: "ws://192.168.1.40:8928/sendspin",
  identityKey: "not a key",
  guests: "sometimes",
  legacy: "on",
  approved: "all",
  pairings: [{ clientId: "a", psk: "short" }],
  recordClients: "yes",
};
const FIELDS = Object.keys(WRONG) as (keyof WorkerConfig)[];

function refusal(config: unknown): string {
  try {
    checkWorkerConfig(config);
  } catch (error) {
    assert.ok(error instanceof WorkerConfigError, `a WorkerConfigError, got ${error}`);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(config)}`);
}

Deno.test("checkWorkerConfig refuses a config missing any field, naming the field", () => {
  assert.deepEqual(FIELDS.toSorted(), Object.keys(CONFIG).toSorted(), "every field is tried");
  for (const field of FIELDS) {
    const { [field]: _, ...rest } = CONFIG;
    assert.match(refusal(rest), new RegExp(`bad "${field}"`), field);
  }
});

Deno.test("checkWorkerConfig refuses any field of the wrong type, naming it and its value", () => {
  for (const field of FIELDS) {
    const message = refusal({ ...CONFIG, [field]: WRONG[field] });
    assert.equal(
      message,
      `Cannot start the worker: its configuration has a bad "${field}" (${
        JSON.stringify(WRONG[field])
      })`,
    );
  }
  // And the finer cases: out of range, empty, a list of something else.
  const finer: [Partial<Record<keyof WorkerConfig, unknown>>, keyof WorkerConfig][] = [
    [{ index: 1.5 }, "index"],
    [{ index: -1 }, "index"],
    [{ port: 65_536 }, "port"],
    [{ serverId: "" }, "serverId"],
    [{ host: "" }, "host"],
    [{ assetsDir: "" }, "assetsDir"],
    [{ logLevel: "debug" }, "logLevel"],
    [{ opusBitrate: 5_999 }, "opusBitrate"],
    [{ maxClients: 0 }, "maxClients"],
    [{ dial: ["ws://a:1", 3] }, "dial"],
  ];
  for (const [change, field] of finer) {
    assert.match(refusal({ ...CONFIG, ...change }), new RegExp(`bad "${field}"`), field);
  }
});

Deno.test("checkWorkerConfig refuses what is not an object, and copies what it accepts", () => {
  for (const value of [undefined, null, "config", 42, []]) {
    assert.match(refusal(value), /bad "index"/, JSON.stringify(value));
  }
  const checked = checkWorkerConfig({ ...CONFIG, extra: "ignored" });
  assert.deepEqual(checked, CONFIG, "exactly the WorkerConfig fields");
  assert.notEqual(checked.dial, CONFIG.dial, "its own copy of the list");
});
