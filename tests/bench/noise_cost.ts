/**
 * What the encrypted dialect costs the server per listener, piece by piece, on the server's
 * own code (protocol/noise, the worker's WebSocket framing) in one process: sealing one Opus
 * chunk for one listener (and its parts: the cipher object, the AEAD, the copy into a
 * WebSocket frame), opening one client message, and one handshake. Each step is timed in 7
 * rounds after a warm-up (fastest and median shown); read them next to the listener
 * benchmark (`deno task bench --dialects legacy,encrypted`), which measures the whole server.
 *
 *   deno run tests/bench/noise_cost.ts [--bytes 960] [--rounds 20000]
 */
import { createCipheriv } from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";
import { parseArgs } from "node:util";
import { encodeFrame } from "../../worker/edge/websocket.ts";
import { generateKeyPair } from "../../protocol/noise/keys.ts";
import { Kkpsk2Initiator } from "../../protocol/noise/kkpsk2.ts";
import { SENTINEL_PSK } from "../../protocol/noise/psk.ts";
import { CipherState } from "../../protocol/noise/cipher_state.ts";
import { SUITE_NAMES, suiteByName, type SuiteName } from "../../protocol/noise/suites.ts";
import { TransportReceiver, TransportSender } from "../../protocol/noise/transport.ts";
import { sealMessage } from "../support/noise/framing.ts";
import { TestCipher, TestResponder } from "../support/noise/responder.ts";
import { median } from "./stats.ts";

const OP_BINARY = 2;
const ALGORITHM: Record<SuiteName, string> = {
  "25519_ChaChaPoly_SHA256": "chacha20-poly1305",
  "25519_AESGCM_SHA256": "aes-256-gcm",
};

/**
 * µs per call of `fn` over 7 rounds of `n` calls, after one round of warm-up: the fastest
 * round (least disturbed by the rest of a shared machine) and the median one.
 */
function time(n: number, fn: () => unknown): string {
  const rounds: number[] = [];
  for (let round = 0; round < 8; round++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    if (round > 0) rounds.push(((performance.now() - t0) * 1000) / n);
  }
  return `${Math.min(...rounds).toFixed(2)} | ${median(rounds).toFixed(2)}`;
}

function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      bytes: { type: "string", default: "960" }, // 128 kbit/s Opus, 60 ms
      rounds: { type: "string", default: "20000" },
    },
  });
  const bytes = Number(values.bytes);
  const n = Number(values.rounds);
  const key = crypto.getRandomValues(new Uint8Array(32));
  const iv = new Uint8Array(12);
  const payload = crypto.getRandomValues(new Uint8Array(bytes));
  const header = new Uint8Array(12);
  const legacyFrame = new Uint8Array(9 + bytes);
  console.log(
    `Server-side Noise costs, ${bytes}-byte audio payload, Deno ${Deno.version.deno}, ` +
      `µs per call (fastest and median of 7 rounds of ${n})`,
  );
  console.log("| suite | step | µs, fastest | µs, median |");
  console.log("|---|---|---:|---:|");
  const line = (suite: string, step: string, us: string) =>
    console.log(`| ${suite} | ${step} | ${us} |`);
  line(
    "(legacy)",
    "frame one chunk (once per format, shared by every listener)",
    time(n, () => {
      encodeFrame(OP_BINARY, legacyFrame);
    }),
  );
  for (const name of SUITE_NAMES) {
    const suite = suiteByName(name)!;
    const algorithm = ALGORITHM[name] as "chacha20-poly1305";
    line(
      name,
      "createCipheriv only",
      time(n, () => createCipheriv(algorithm, key, iv, { authTagLength: 16 })),
    );
    line(
      name,
      "createCipheriv + update + final + getAuthTag",
      time(n, () => {
        const cipher = createCipheriv(algorithm, key, iv, { authTagLength: 16 });
        cipher.update(payload);
        cipher.final();
        cipher.getAuthTag();
      }),
    );
    line(
      name,
      "the same with the 3 parts as 3 updates",
      time(n, () => {
        const cipher = createCipheriv(algorithm, key, iv, { authTagLength: 16 });
        cipher.update(Uint8Array.of(4));
        cipher.update(header);
        cipher.update(payload);
        cipher.final();
        cipher.getAuthTag();
      }),
    );
    let nonce = 0n;
    line(
      name,
      "Suite.seal([type, header, payload])",
      time(n, () => {
        suite.seal(key, nonce++, new Uint8Array(0), [Uint8Array.of(4), header, payload]);
      }),
    );
    const sender = new TransportSender(new CipherState(suite, key));
    line(
      name,
      "TransportSender.seal (what sendAudio does, less the header)",
      time(n, () => {
        sender.seal(4, [header, payload]);
      }),
    );
    const sealed = sender.seal(4, [header, payload])[0];
    line(
      name,
      "encodeFrame of the sealed message (per listener, not cached)",
      time(n, () => {
        encodeFrame(OP_BINARY, sealed);
      }),
    );
    const sealAndFrame = new TransportSender(new CipherState(suite, key));
    line(
      name,
      "seal + frame: per listener per chunk",
      time(n, () => {
        for (const m of sealAndFrame.seal(4, [header, payload])) encodeFrame(OP_BINARY, m);
      }),
    );
    // A client's small message (a time probe), opened by the server.
    const clientSide = new TestCipher(name, key);
    const probe = new TextEncoder().encode(
      JSON.stringify({ type: "client/time", payload: { client_transmitted: 1234567890123 } }),
    );
    const probes = Array.from({ length: n * 8 }, () => sealMessage(clientSide, 0, probe)[0]);
    const receiver = new TransportReceiver(new CipherState(suite, key));
    let next = 0;
    line(
      name,
      "TransportReceiver.open of a client/time",
      time(n, () => {
        receiver.open(probes[next++]);
      }),
    );
    const server = generateKeyPair();
    const clientKey = crypto.getRandomValues(new Uint8Array(32));
    const clientPublic = x25519.getPublicKey(clientKey);
    const handshakes = Math.max(50, n / 100);
    const pairs = Array.from({ length: handshakes * 8 }, () => {
      const initiator = new Kkpsk2Initiator({
        suite: name,
        prologue: new Uint8Array(0),
        localStatic: server,
        remoteStaticPublicKey: clientPublic,
      });
      const message1 = initiator.writeMessage1(new Uint8Array(40));
      const responder = new TestResponder({
        suite: name,
        prologue: new Uint8Array(0),
        staticPrivateKey: clientKey,
        remoteStaticPublicKey: server.publicKey,
      });
      responder.readMessage1(message1);
      return {
        initiator,
        message2: responder.writeMessage2(new TextEncoder().encode("{}"), SENTINEL_PSK),
      };
    });
    let pair = 0;
    line(
      name,
      "server handshake: new initiator + writeMessage1",
      time(handshakes, () => {
        new Kkpsk2Initiator({
          suite: name,
          prologue: new Uint8Array(0),
          localStatic: server,
          remoteStaticPublicKey: clientPublic,
        }).writeMessage1(new Uint8Array(40));
      }),
    );
    line(
      name,
      "server handshake: readMessage2",
      time(handshakes, () => {
        const { initiator, message2 } = pairs[pair++];
        initiator.readMessage2(message2, SENTINEL_PSK);
      }),
    );
  }
}

if (import.meta.main) main();
