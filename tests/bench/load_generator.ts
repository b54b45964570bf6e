/**
 * Load generator: many listeners that behave like sendspin-js 3.2.1 players. Each one does
 * the real handshake (its hello, 5 MB buffer), time bursts of 8 sequential probes every 10 s,
 * a `client/state` every 5 s, and reads every audio chunk. It records, per listener, the time
 * from hello to first chunk, every chunk's lead (timestamp minus arrival, in server time),
 * gaps in the timestamps, and every time-answer round trip.
 *
 * Listeners join at `--join-rate` per second, then after `--settle` seconds a window of
 * `--seconds` is measured. Progress and the result are JSON lines on stdout:
 *   {"event":"measuring"}  {"event":"measured"}  {"event":"result", ...}
 * Run by the benchmark (tests/bench/listeners.ts); needs only --allow-net.
 * Its WebSocket client has Nagle's algorithm off, as browsers do (see ws_client.ts).
 *
 * `--dialect encrypted` (default legacy) makes every listener an unpaired client of the
 * encrypted dialect (`--suite`, default 25519_ChaChaPoly_SHA256): client/init and the Noise
 * KKpsk2 handshake under the Sentinel PSK (encrypted_link.ts), then the same life as above in
 * that dialect's shapes: client/hello answers server/hello, the initial client/state and the
 * first time burst follow the first server/activate, and every chunk (binary type 4, 13-byte
 * header) is decrypted and read. The settle starts once every listener is activated. Its result
 * adds the handshake time (connect to server/hello) and the generator's own load.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { AUDIO_HEADER_BYTES, BINARY_PLAYER_AUDIO } from "../../protocol/audio_chunk.ts";
import { median, percentile } from "./stats.ts";
import { WsClient } from "../support/ws_client.ts";
import { clientHello } from "../support/encrypted/behaviour.ts";
import type { AudioFormat } from "../support/encrypted/options.ts";
import {
  EncryptedLink,
  type Identity,
  newIdentity,
  SUITES,
  type TestSuiteName,
} from "./encrypted_link.ts";

const BURST_PROBES = 8;
const BURST_INTERVAL_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;
const STATE_INTERVAL_MS = 5_000;
const BUFFER_CAPACITY = 5 * 1024 * 1024;
/** Every codec's unit is 2,880 frames at 48 kHz: consecutive timestamps step by 60 ms. */
const CHUNK_US = 60_000;
const ROLES = ["player@v1", "controller@v1", "metadata@v1"];
/** Binary type 4 of the encrypted dialect, after its type byte: int64 timestamp, uint32 send_ahead. */
const SEALED_AUDIO_HEADER_BYTES = 12;

/** Which dialect a listener speaks: legacy v1 JSON, or the encrypted one with a suite. */
export type Dialect =
  | { name: "legacy" }
  | { name: "encrypted"; suite: TestSuiteName; identity?: Identity };

const nowUs = () => performance.now() * 1000;

interface Probe {
  rttUs: number;
  offsetUs: number;
}

export class Listener {
  serverId = "";
  helloUs = 0;
  firstChunkMs = NaN;
  closedEarly = "";
  /** Arrival (local µs) and timestamp (server µs) of chunks inside the window. */
  arrivals: number[] = [];
  timestamps: number[] = [];
  lost = 0;
  /** Chunks seen once the clock was known, and of those the ones that arrived late. */
  onlineChunks = 0;
  onlineLate = 0;
  probes: Probe[] = [];
  windowRtts: number[] = [];
  #lastTs = NaN;
  #offset?: { probes: number; us: number };
  #inFlight = NaN;
  #probesLeft = 0;
  #probeTimer?: ReturnType<typeof setTimeout>;
  #timers: ReturnType<typeof setInterval>[] = [];
  #socket?: WsClient;
  #link?: EncryptedLink;
  /** Encrypted: connect to server/hello (the handshake and the server's first message), ms. */
  handshakeMs = NaN;
  #connectUs = 0;
  #activated = false;

  constructor(
    readonly index: number,
    readonly codec: string,
    readonly run: Run,
    readonly dialect: Dialect = { name: "legacy" },
  ) {}

  async connect(url: string) {
    if (this.dialect.name === "encrypted") return this.#connectEncrypted(url, this.dialect);
    try {
      this.#socket = await WsClient.connect(url, {
        onText: (text, arrivedUs) => this.#text(text, arrivedUs),
        onBinary: (bytes, arrivedUs) => this.#chunk(bytes, arrivedUs),
        onClose: (reason) => {
          if (!this.run.stopping) this.closedEarly ||= reason;
          this.#stopTimers();
        },
      });
      this.#hello();
    } catch (error) {
      this.closedEarly = `cannot connect: ${error instanceof Error ? error.message : error}`;
    }
  }

  async #connectEncrypted(url: string, dialect: Dialect & { name: "encrypted" }) {
    this.#connectUs = nowUs();
    try {
      this.#link = await EncryptedLink.connect(
        url,
        dialect.identity ?? newIdentity(),
        dialect.suite,
        {
          onJson: (message, arrivedUs) => this.#encryptedMessage(message, arrivedUs),
          onBinary: (type, body, arrivedUs) => this.#sealedChunk(type, body, arrivedUs),
          onClose: (reason) => {
            if (!this.run.stopping) this.closedEarly ||= reason;
            this.#stopTimers();
          },
        },
      );
    } catch (error) {
      this.closedEarly = `cannot connect: ${error instanceof Error ? error.message : error}`;
    }
  }

  #send(type: string, payload: unknown) {
    if (this.#link) return this.#link.sendJson(type, payload);
    this.#socket?.sendText(JSON.stringify({ type, payload }));
  }

  #hello() {
    this.helloUs = nowUs();
    this.#send("client/hello", {
      client_id: `load-${this.index}`,
      name: `Load ${this.index}`,
      version: 1,
      supported_roles: ["player@v1", "controller@v1", "metadata@v1"],
      device_info: { product_name: "Load generator", manufacturer: "sendspin-party" },
      "player@v1_support": {
        supported_formats: [{ codec: this.codec, sample_rate: 48_000, channels: 2, bit_depth: 16 }],
        buffer_capacity: BUFFER_CAPACITY,
        supported_commands: ["volume", "mute"],
      },
    });
  }

  #text(data: string, arrivedUs: number) {
    const message = JSON.parse(data);
    if (message.type === "server/time") return this.#timeAnswer(message.payload, arrivedUs);
    if (message.type === "server/hello") {
      this.serverId = message.payload.server_id;
      this.#sendState();
      this.#startBurst();
      this.#timers.push(
        setInterval(() => this.#startBurst(), BURST_INTERVAL_MS),
        setInterval(() => this.#sendState(), STATE_INTERVAL_MS),
      );
    }
  }

  #encryptedMessage(
    message: { type: string; payload: Record<string, unknown> },
    arrivedUs: number,
  ) {
    const { type, payload } = message;
    if (type === "server/time") {
      return this.#timeAnswer(payload as unknown as TimeAnswer, arrivedUs);
    }
    if (type === "server/hello") {
      this.handshakeMs = (arrivedUs - this.#connectUs) / 1000;
      this.serverId = this.#link!.serverId; // one identity for all workers
      this.helloUs = nowUs();
      const format = { codec: this.codec, sample_rate: 48_000, channels: 2, bit_depth: 16 };
      this.#send(
        "client/hello",
        clientHello({
          name: `Load ${this.index}`,
          formats: [format as AudioFormat],
          bufferCapacity: BUFFER_CAPACITY,
        }, ROLES),
      );
    } else if (type === "server/activate" && !this.#activated) {
      // Nothing may go out before the first server/activate; then the initial client/state.
      this.#activated = true;
      this.#sendState();
      this.#startBurst();
      this.#timers.push(
        setInterval(() => this.#startBurst(), BURST_INTERVAL_MS),
        setInterval(() => this.#sendState(), STATE_INTERVAL_MS),
      );
    }
  }

  #sealedChunk(type: number, body: Uint8Array, arrivedUs: number) {
    if (type !== BINARY_PLAYER_AUDIO || body.byteLength < SEALED_AUDIO_HEADER_BYTES) return;
    const ts = Number(new DataView(body.buffer, body.byteOffset).getBigInt64(0, false));
    this.#audio(ts, arrivedUs);
  }

  #chunk(bytes: Uint8Array, arrivedUs: number) {
    if (bytes.byteLength < AUDIO_HEADER_BYTES) return;
    const ts = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(1, false));
    this.#audio(ts, arrivedUs);
  }

  #audio(ts: number, arrivedUs: number) {
    if (Number.isNaN(this.firstChunkMs)) this.firstChunkMs = (arrivedUs - this.helloUs) / 1000;
    if (this.run.measuring) {
      this.arrivals.push(arrivedUs);
      this.timestamps.push(ts);
    }
    // Gaps count over the listener's whole life, joining included.
    if (ts - this.#lastTs > CHUNK_US + 1) {
      this.lost += Math.round((ts - this.#lastTs) / CHUNK_US) - 1;
    }
    if (this.run.online && this.probes.length >= BURST_PROBES) {
      this.onlineChunks++;
      if (ts <= arrivedUs + this.offsetUs()) this.onlineLate++;
    }
    this.#lastTs = ts;
  }

  #sendState() {
    if (this.#link) {
      return this.#send("client/state", {
        available: true,
        player: {
          volume: 100,
          muted: false,
          output_delay_ms: 0,
          supported_commands: ["volume", "mute"],
        },
      });
    }
    this.#send("client/state", { player: { state: "synchronized", volume: 100, muted: false } });
  }

  #startBurst() {
    if (this.#probesLeft > 0) return; // like sendspin-js: one burst at a time
    this.#probesLeft = BURST_PROBES;
    this.#probe();
  }

  #probe() {
    if (this.#probesLeft-- <= 0) return;
    this.#inFlight = Math.round(nowUs());
    this.#send("client/time", { client_transmitted: this.#inFlight });
    clearTimeout(this.#probeTimer);
    this.#probeTimer = setTimeout(() => {
      this.run.probeTimeouts++;
      this.#probesLeft = 0; // abort the burst, as sendspin-js does
    }, PROBE_TIMEOUT_MS);
  }

  #timeAnswer(answer: TimeAnswer, t4: number) {
    if (answer.client_transmitted !== this.#inFlight) return;
    clearTimeout(this.#probeTimer);
    const t1 = answer.client_transmitted;
    const { server_received: t2, server_transmitted: t3 } = answer;
    const rttUs = t4 - t1;
    this.probes.push({ rttUs: rttUs - (t3 - t2), offsetUs: (t2 - t1 + t3 - t4) / 2 });
    if (this.run.measuring) this.windowRtts.push(rttUs);
    this.#probe();
  }

  /** Server minus local clock: the median of the 3 fastest probes (sendspin-js's choice). */
  offsetUs(): number {
    if (this.#offset?.probes === this.probes.length) return this.#offset.us;
    const fastest = [...this.probes].sort((a, b) => a.rttUs - b.rttUs).slice(0, 3);
    this.#offset = { probes: this.probes.length, us: median(fastest.map((p) => p.offsetUs)) };
    return this.#offset.us;
  }

  /** Encrypted: its handshake is over (activated, or closed). */
  get joined(): boolean {
    return this.#activated || this.closedEarly !== "";
  }

  #stopTimers() {
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#probeTimer);
  }

  close() {
    this.#stopTimers();
    this.#socket?.close();
    this.#link?.close();
  }
}

interface TimeAnswer {
  client_transmitted: number;
  server_received: number;
  server_transmitted: number;
}

export interface Run {
  measuring: boolean;
  /** Count late and lost chunks as they come (long runs keep no per-chunk records). */
  online?: boolean;
  stopping: boolean;
  probeTimeouts: number;
}

/**
 * How late the generator's own event loop runs (a 10 ms timer): a loop that lags is a
 * generator too busy to read on time, whose arrival stamps are late by that much.
 */
class LoopLag {
  join: number[] = [];
  window: number[] = [];
  #timer: ReturnType<typeof setInterval>;
  constructor(run: Run) {
    let last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      (run.measuring ? this.window : this.join).push(Math.max(0, now - last - 10));
      last = now;
    }, 10);
  }
  stop() {
    clearInterval(this.#timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const emit = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      listeners: { type: "string", default: "100" },
      codec: { type: "string", default: "opus" },
      "join-rate": { type: "string", default: "500" },
      settle: { type: "string", default: "3" },
      seconds: { type: "string", default: "10" },
      dialect: { type: "string", default: "legacy" },
      suite: { type: "string", default: "25519_ChaChaPoly_SHA256" },
    },
  });
  if (!values.url) throw new Error("--url ws://host:port/sendspin is required");
  if (values.dialect !== "legacy" && values.dialect !== "encrypted") {
    throw new Error(`--dialect must be legacy or encrypted, not ${values.dialect}`);
  }
  if (!SUITES.includes(values.suite as TestSuiteName)) {
    throw new Error(`--suite must be one of ${SUITES.join(", ")}, not ${values.suite}`);
  }
  const encrypted = values.dialect === "encrypted";
  const suite = values.suite as TestSuiteName;
  const count = Number(values.listeners);
  const joinRate = Number(values["join-rate"]);
  const run: Run = { measuring: false, stopping: false, probeTimeouts: 0 };

  // Each encrypted listener's identity exists before it joins, as a phone's does.
  const identities = encrypted ? Array.from({ length: count }, newIdentity) : [];
  // Encrypted listeners cost the generator pure-JS crypto: it watches its own loop and CPU.
  const lag = encrypted ? new LoopLag(run) : undefined;
  const joinCpu = process.cpuUsage();
  const listeners: Listener[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i / joinRate) * 1000;
    if (due > performance.now() + 1) await sleep(due - performance.now());
    const listener = encrypted
      ? new Listener(i, values.codec!, run, { name: "encrypted", suite, identity: identities[i] })
      : new Listener(i, values.codec!, run);
    listeners.push(listener);
    listener.connect(values.url);
  }
  // Encrypted joins take longer (every handshake is pure JS here): the settle starts once
  // every listener is activated (or gone), so the window measures the party, not its join.
  let joinedAfterS = NaN;
  if (encrypted) {
    const deadline = performance.now() + 30_000;
    while (!listeners.every((l) => l.joined) && performance.now() < deadline) await sleep(20);
    joinedAfterS = (performance.now() - started) / 1000;
  }
  await sleep(Number(values.settle) * 1000);

  const joinCpuUs = process.cpuUsage(joinCpu);
  const joinSeconds = (performance.now() - started) / 1000;
  emit({ event: "measuring" });
  run.measuring = true;
  const windowStart = nowUs();
  await sleep(Number(values.seconds) * 1000);
  run.measuring = false;
  lag?.stop();
  const windowUs = nowUs() - windowStart;
  emit({ event: "measured" });

  run.stopping = true;
  for (const listener of listeners) listener.close();

  const leadsMs: number[] = [];
  const firstChunkMs: number[] = [];
  const handshakeMs: number[] = [];
  const rttsMs: number[] = [];
  const offsetsByServer = new Map<string, number[]>();
  let late = 0;
  let lost = 0;
  for (const l of listeners) {
    if (!Number.isNaN(l.firstChunkMs)) firstChunkMs.push(l.firstChunkMs);
    if (!Number.isNaN(l.handshakeMs)) handshakeMs.push(l.handshakeMs);
    for (const rtt of l.windowRtts) rttsMs.push(rtt / 1000);
    lost += l.lost;
    const offset = l.offsetUs();
    if (Number.isNaN(offset)) continue;
    const offsets = offsetsByServer.get(l.serverId) ?? [];
    offsets.push(offset);
    offsetsByServer.set(l.serverId, offsets);
    for (let i = 0; i < l.timestamps.length; i++) {
      const leadUs = l.timestamps[i] - (l.arrivals[i] + offset);
      if (leadUs < 0) late++;
      leadsMs.push(leadUs / 1000);
    }
  }
  // All workers stamp with one server clock: their listeners' offsets should agree.
  const serverMedians = [...offsetsByServer.values()].map(median);
  const errors = new Map<string, number>();
  for (const l of listeners) {
    if (l.closedEarly) errors.set(l.closedEarly, (errors.get(l.closedEarly) ?? 0) + 1);
  }
  emit({
    event: "result",
    listeners: count,
    withAudio: firstChunkMs.length,
    closedEarly: Object.fromEntries(errors),
    windowSeconds: round(windowUs / 1e6),
    chunks: leadsMs.length,
    expectedChunks: Math.round(firstChunkMs.length * (windowUs / CHUNK_US)),
    late,
    lost,
    leadMs: { p1: round(percentile(leadsMs, 1), 1), p50: round(percentile(leadsMs, 50), 1) },
    timeAnswerMs: {
      probes: rttsMs.length,
      timeouts: run.probeTimeouts,
      p50: round(percentile(rttsMs, 50)),
      p99: round(percentile(rttsMs, 99)),
      max: round(percentile(rttsMs, 100)),
    },
    firstChunkMs: {
      p50: round(percentile(firstChunkMs, 50), 1),
      p99: round(percentile(firstChunkMs, 99), 1),
      max: round(percentile(firstChunkMs, 100), 1),
    },
    workersSeen: serverMedians.length,
    clockSkewUs: serverMedians.length > 1
      ? round(Math.max(...serverMedians) - Math.min(...serverMedians), 1)
      : null,
    // Encrypted: every worker has the server's one identity, so listeners cannot tell the
    // workers apart and no skew is measured.
    ...(encrypted
      ? {
        dialect: "encrypted",
        suite,
        handshakeMs: {
          p50: round(percentile(handshakeMs, 50), 1),
          p99: round(percentile(handshakeMs, 99), 1),
          max: round(percentile(handshakeMs, 100), 1),
        },
        generator: {
          joinedAfterS: round(joinedAfterS, 2),
          joinCpuPercent: round(
            ((joinCpuUs.user + joinCpuUs.system) / 1e6 / joinSeconds) * 100,
            1,
          ),
          loopLagMs: {
            joinMax: round(percentile(lag!.join, 100), 1),
            windowP99: round(percentile(lag!.window, 99), 1),
            windowMax: round(percentile(lag!.window, 100), 1),
          },
        },
      }
      : {}),
  });
  await sleep(200); // let close frames go out
  Deno.exit(0);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`load generator: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  });
}
