/**
 * The real published client, `@sendspin/sendspin-js@3.2.1` (`SendspinCore`), bundled with
 * `deno bundle` on first use, plus a recorder for what it receives.
 */
import { parseAudioChunk } from "../../protocol/audio_chunk.ts";
import { until, type UntilOptions } from "./until.ts";

const CACHE = new URL("../.cache/", import.meta.url);
const BUNDLE = new URL("sendspin-js-3.2.1.js", CACHE);
const ENTRY = new URL("./sendspin_entry.ts", import.meta.url);

// deno-lint-ignore no-explicit-any
type SendspinCore = any;

let bundling: Promise<void> | undefined;

/** Bundles the client once per checkout (atomic rename, so parallel test files agree). */
export function bundleClient(): Promise<void> {
  bundling ??= (async () => {
    try {
      await Deno.stat(BUNDLE);
      return;
    } catch {
      // not built yet
    }
    await Deno.mkdir(CACHE, { recursive: true });
    const tmp = new URL(`sendspin-js.${crypto.randomUUID()}.js`, CACHE);
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform=browser", "-o", tmp.pathname, ENTRY.pathname],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`deno bundle failed: ${new TextDecoder().decode(stderr)}`);
    await Deno.rename(tmp, BUNDLE);
  })();
  return bundling;
}

export interface ReceivedChunk {
  playAtUs: number;
  payload: Uint8Array;
  /** Local performance.now() in µs when it arrived. */
  arrivedUs: number;
}

export interface TestClientOptions {
  name?: string;
  playerId?: string;
  codecs?: ("pcm" | "flac" | "opus")[];
  bufferCapacity?: number;
}

export class TestClient {
  readonly chunks: ReceivedChunk[] = [];
  readonly messages: { type: string; payload: Record<string, unknown> }[] = [];
  /** Decoded PCM per chunk as 16-bit integers (PCM streams), in arrival order. */
  readonly decoded: { serverTimeUs: number; samples: Int16Array }[] = [];
  closed = false;

  constructor(readonly core: SendspinCore, readonly socket: WebSocket) {}

  static async connect(baseUrl: string, options: TestClientOptions = {}): Promise<TestClient> {
    await bundleClient();
    const { SendspinCore } = await import(BUNDLE.href);
    const socket = new WebSocket(new URL("/sendspin", baseUrl).href.replace(/^http/, "ws"));
    socket.binaryType = "arraybuffer";
    const core = new SendspinCore({
      webSocket: socket,
      playerId: options.playerId ?? `test-${crypto.randomUUID().slice(0, 8)}`,
      clientName: options.name ?? "test client",
      codecs: options.codecs ?? ["pcm"],
      bufferCapacity: options.bufferCapacity,
      storage: null,
    });
    const client = new TestClient(core, socket);
    socket.addEventListener("message", (event) => client.#record(event));
    socket.addEventListener("close", () => client.closed = true);
    core.onAudioData = (chunk: { serverTimeUs: number; samples: Float32Array[] }) => {
      client.decoded.push({ serverTimeUs: chunk.serverTimeUs, samples: interleave(chunk.samples) });
    };
    await core.connect();
    return client;
  }

  #record(event: MessageEvent) {
    if (typeof event.data === "string") {
      this.messages.push(JSON.parse(event.data));
      return;
    }
    const { playAtUs, payload } = parseAudioChunk(new Uint8Array(event.data));
    this.chunks.push({ playAtUs, payload, arrivedUs: performance.now() * 1000 });
  }

  /**
   * Waits until `predicate` holds, polling; after the deadline throws naming `what` and
   * showing `options.seen`, or else what this client has received so far.
   */
  waitFor(
    what: string,
    predicate: () => boolean,
    options: number | UntilOptions = 10_000,
  ): Promise<void> {
    const base = typeof options === "number" ? { ms: options } : options;
    return until(what, predicate, { seen: () => this.describe(), ...base });
  }

  /** What this client has received and decoded so far, for a test's failure message. */
  describe(): string {
    const types = new Map<string, number>();
    for (const { type } of this.messages) types.set(type, (types.get(type) ?? 0) + 1);
    const messages = [...types].map(([type, n]) => `${type} x${n}`).join(", ") || "none";
    return `${this.chunks.length} audio chunks, ${this.decoded.length} decoded; messages: ${messages}; ${
      this.closed ? "closed" : "open"
    }`;
  }

  messagesOf(type: string) {
    return this.messages.filter((m) => m.type === type);
  }

  /** Server time now, as the client's synchronised clock estimates it. */
  serverNowUs(): number {
    return this.core.getCurrentServerTimeUs();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise((r) => this.socket.addEventListener("close", r, { once: true }));
    this.core.disconnect("user_request");
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
    this.closed = true;
  }
}

/** Float channels from the client back to 16-bit interleaved integers (exact for PCM 16). */
function interleave(channels: Float32Array[]): Int16Array {
  const frames = channels[0]?.length ?? 0;
  const out = new Int16Array(frames * channels.length);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels.length; c++) {
      out[f * channels.length + c] = Math.round(channels[c][f] * 32768);
    }
  }
  return out;
}
