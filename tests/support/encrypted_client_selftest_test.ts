// The encrypted test client (support/encrypted/) against a minimal stand-in server built on the
// SERVER's crypto (protocol/noise/), over real WebSockets on loopback: the two Noise
// implementations share no code, so agreement here means both follow the same spec. The
// stand-in is only as much server as these checks need; it is not the product.
import assert from "node:assert/strict";
import { decodeBase64Url, encodeBase64Url } from "../../protocol/noise/base64url.ts";
import { HandshakeError, Kkpsk2Initiator } from "../../protocol/noise/kkpsk2.ts";
import { generateKeyPair, publicKeyFromPrivate } from "../../protocol/noise/keys.ts";
import { pskId, SENTINEL_PSK, SENTINEL_PSK_ID } from "../../protocol/noise/psk.ts";
import { SUITE_NAMES, suiteByName, type SuiteName } from "../../protocol/noise/suites.ts";
import { TransportReceiver, TransportSender } from "../../protocol/noise/transport.ts";
import {
  KEYS,
  LONG_TERM_PSK_HEX,
  REHANDSHAKE,
  SERVER_INIT_TEXT,
  VECTORS,
} from "../protocol/noise/sendspin_vectors.ts";
import { EncryptedClient, type EncryptedClientOptions } from "./encrypted/client.ts";
import { answerMessage1, clientInitText } from "./encrypted/handshake.ts";
import { SENTINEL_PSK_ID as TEST_SENTINEL_PSK_ID } from "./encrypted/ids.ts";
import { hex, unhex } from "./noise/hex.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const nowUs = () => Math.round(performance.now() * 1000);
const SERVER_CLOCK_AHEAD_US = 1_000_000; // the stand-in's clock, so the probes have an offset to find
const randomPsk = () => crypto.getRandomValues(new Uint8Array(32));

interface StandInOptions {
  /** The PSK message 1 names. Default the Sentinel. */
  reference?: { category: "lt" | "pr" | "sn"; psk: Uint8Array };
  activate?: Record<string, unknown>;
}

/** The server side of one connection: init, handshake, hello, activation, time answers. */
class StandIn {
  readonly keys = generateKeyPair();
  readonly received: { type: string; payload: Record<string, unknown> }[] = [];
  readonly binaryIn: Uint8Array[] = [];
  clientInit?: string;
  matched?: "referenced" | "sentinel";
  handshakeHash?: Uint8Array;
  failure?: string;
  #initiator?: Kkpsk2Initiator;
  #sender?: TransportSender;
  #receiver?: TransportReceiver;
  #rehandshake?: {
    initiator: Kkpsk2Initiator;
    psk: Uint8Array;
    first: string;
    done: () => void;
    fail: (error: Error) => void;
  };

  constructor(readonly socket: WebSocket, readonly options: StandInOptions = {}) {
    socket.binaryType = "arraybuffer";
    socket.onclose = () => this.#rehandshake?.fail(new Error("closed before message 2"));
    socket.onmessage = ({ data }) => {
      try {
        if (typeof data === "string") this.#onText(data);
        else this.#onBinary(new Uint8Array(data));
      } catch (error) {
        this.failure = String(error);
        this.#rehandshake?.fail(new Error(`the stand-in refused: ${error}`));
        socket.close();
      }
    };
  }

  sendJson(type: string, payload: Record<string, unknown>) {
    for (const message of this.#sender!.sealJson(JSON.stringify({ type, payload }))) {
      this.socket.send(message);
    }
  }

  sendBinary(type: number, body: Uint8Array) {
    for (const message of this.#sender!.seal(type, body)) this.socket.send(message);
  }

  /**
   * Message 1 under the current keys; resolves once server/activate went out under the new
   * ones, after `first` if that is another type (a server breaking the rule).
   */
  rehandshake(category: "lt" | "pr" | "sn", psk: Uint8Array, first = "server/activate") {
    const initiator = new Kkpsk2Initiator({
      suite: this.#suite,
      prologue: this.handshakeHash!,
      localStatic: this.keys,
      remoteStaticPublicKey: this.#clientKey,
    });
    const message1 = initiator.writeMessage1(
      utf8(JSON.stringify({ psk_id: pskId(psk), psk_category: category })),
    );
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#rehandshake = { initiator, psk, first, done: resolve, fail: reject };
    this.sendJson("noise/handshake", { data: encodeBase64Url(message1) });
    return promise;
  }

  get #init() {
    return JSON.parse(this.clientInit!).payload;
  }
  get #suite(): SuiteName {
    return this.#init.suite;
  }
  get #clientKey() {
    return decodeBase64Url(this.#init.client_id, { byteLength: 32 });
  }

  #onText(data: string) {
    if (this.#receiver) throw new Error(`text after the handshake: ${data}`);
    if (this.#initiator) return this.#onMessage2(data);
    this.clientInit = data;
    if (!suiteByName(this.#init.suite)) {
      this.socket.send(JSON.stringify({
        type: "server/error",
        payload: { reason: "unsupported_suite" },
      }));
      return this.socket.close();
    }
    const serverInit = JSON.stringify({
      type: "server/init",
      payload: { server_id: encodeBase64Url(this.keys.publicKey), version: 1 },
    });
    this.socket.send(serverInit);
    this.#initiator = new Kkpsk2Initiator({
      suite: this.#suite,
      prologue: utf8(data + serverInit),
      localStatic: this.keys,
      remoteStaticPublicKey: this.#clientKey,
    });
    const { category, psk } = this.#reference;
    const payload = JSON.stringify({ psk_id: pskId(psk), psk_category: category });
    const message1 = this.#initiator.writeMessage1(utf8(payload));
    this.socket.send(JSON.stringify({
      type: "noise/handshake",
      payload: { data: encodeBase64Url(message1) },
    }));
  }

  get #reference() {
    return this.options.reference ?? { category: "sn", psk: SENTINEL_PSK };
  }

  #onMessage2(data: string) {
    const message2 = decodeBase64Url(JSON.parse(data).payload.data);
    let result;
    try {
      result = this.#initiator!.readMessage2(message2, this.#reference.psk);
      this.matched = "referenced";
    } catch (error) {
      if (!(error instanceof HandshakeError) || this.#reference.psk === SENTINEL_PSK) throw error;
      result = this.#initiator!.readMessage2(message2, SENTINEL_PSK);
      this.matched = "sentinel";
    }
    assert.equal(text(result.payload), "{}");
    this.#install(result);
    this.sendJson("server/hello", { name: "stand-in" });
  }

  #install(result: ReturnType<Kkpsk2Initiator["readMessage2"]>) {
    this.#sender = new TransportSender(result.send);
    this.#receiver = new TransportReceiver(result.receive);
    this.handshakeHash = result.handshakeHash;
  }

  #onBinary(bytes: Uint8Array) {
    this.binaryIn.push(bytes);
    const opened = this.#receiver!.open(bytes);
    if (!opened || opened.type !== 0) return;
    const message = JSON.parse(text(opened.body));
    this.received.push(message);
    const receivedUs = nowUs() + SERVER_CLOCK_AHEAD_US;
    if (message.type === "client/hello") {
      this.sendJson(
        "server/activate",
        this.options.activate ?? {
          activities: ["playback"],
          active_roles: ["player@v1", "controller@v1", "metadata@v1"],
        },
      );
    } else if (message.type === "client/time") {
      this.sendJson("server/time", {
        client_transmitted: message.payload.client_transmitted,
        server_received: receivedUs,
        server_transmitted: nowUs() + SERVER_CLOCK_AHEAD_US,
      });
    } else if (message.type === "noise/handshake" && this.#rehandshake) {
      const { initiator, psk, first, done } = this.#rehandshake;
      this.#rehandshake = undefined;
      this.#install(initiator.readMessage2(decodeBase64Url(message.payload.data), psk));
      if (first !== "server/activate") this.sendJson(first, {});
      this.sendJson("server/activate", { activities: ["playback"] });
      done();
    }
  }
}

/** A stand-in server on loopback port 0 for `body`; everything is closed afterwards. */
async function withStandIn(
  options: StandInOptions,
  body: (url: string, standIns: StandIn[]) => Promise<void>,
) {
  const standIns: StandIn[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    standIns.push(new StandIn(socket, options));
    return response;
  });
  try {
    await body(`http://127.0.0.1:${server.addr.port}/`, standIns);
  } finally {
    for (const standIn of standIns) standIn.socket.close();
    await server.shutdown();
  }
}

async function connected(
  options: StandInOptions,
  clientOptions: EncryptedClientOptions,
  body: (client: EncryptedClient, standIn: StandIn) => Promise<void>,
) {
  await withStandIn(options, async (url, standIns) => {
    const client = await EncryptedClient.connect(url, clientOptions);
    try {
      await body(client, standIns[0]);
    } finally {
      await client.close();
    }
  });
}

Deno.test("test-side Sentinel psk_id is the published one, as the server's", () => {
  assert.equal(TEST_SENTINEL_PSK_ID, "GFsV9tLaSQm9HcFWpKsgYQOr7wFTvNUtkmFwuVz3zoo");
  assert.equal(TEST_SENTINEL_PSK_ID, SENTINEL_PSK_ID);
});

Deno.test("the client's init text and message 2 match the digest's vectors A, B, C and D", () => {
  const common = {
    staticKey: unhex(KEYS.clientStaticPrivHex),
    serverStaticKey: unhex(KEYS.serverStaticPubHex),
    serverId: KEYS.serverId,
    psks: {},
    ephemeralKey: unhex(KEYS.clientEphemeralPrivHex),
  };
  for (const [name, vector] of Object.entries(VECTORS)) {
    const initText = clientInitText(unhex(KEYS.clientStaticPubHex), vector.suite);
    assert.equal(initText, vector.clientInitText, name);
    const answer = answerMessage1(unhex(vector.msg1Hex), {
      ...common,
      suite: vector.suite,
      prologue: utf8(initText + SERVER_INIT_TEXT),
      sentinelFallback: true,
    });
    assert.equal(hex(answer.message2), vector.msg2Hex, name);
    assert.equal(answer.matched, name === "C" ? "sentinel-fallback" : "sn", name);
    assert.equal(hex(answer.responder.handshakeHash), vector.handshakeHashHex, name);
  }
  const rehandshake = answerMessage1(unhex(REHANDSHAKE.msg1Hex), {
    ...common,
    suite: "25519_ChaChaPoly_SHA256",
    prologue: unhex(REHANDSHAKE.prologueHex),
    psks: { longTerm: unhex(LONG_TERM_PSK_HEX) },
    ephemeralKey: unhex(REHANDSHAKE.clientEphemeralPrivHex),
    sentinelFallback: false,
  });
  assert.equal(hex(rehandshake.message2), REHANDSHAKE.msg2Hex);
  assert.equal(rehandshake.matched, "lt");
  assert.equal(hex(rehandshake.responder.handshakeHash), REHANDSHAKE.handshakeHashHex);
});

for (const suite of SUITE_NAMES) {
  Deno.test(`${suite}: init, handshake, hello, activation and the initial client/state`, async () => {
    const staticKey = randomPsk();
    await connected({}, { suite, staticKey }, async (client, standIn) => {
      const init = JSON.parse(standIn.clientInit!);
      assert.deepEqual(init, {
        type: "client/init",
        payload: { client_id: encodeBase64Url(publicKeyFromPrivate(staticKey)), version: 1, suite },
      });
      assert.equal(client.serverId, encodeBase64Url(standIn.keys.publicKey));
      assert.deepEqual(client.handshakeHash, standIn.handshakeHash);
      assert.equal(client.matchedPsk, "sn");
      await client.waitFor("client/state", () => standIn.received.length >= 2);
      assert.deepEqual(standIn.received, [{
        type: "client/hello",
        payload: {
          name: "encrypted test client",
          supported_roles: ["player@v1", "controller@v1", "metadata@v1"],
          "player@v1_support": {
            supported_formats: [{ codec: "pcm", sample_rate: 48_000, bit_depth: 16, channels: 2 }],
            buffer_capacity: 5 * 1024 * 1024,
          },
          supported_pair_methods: { pairing_psk: {} },
          unpaired_access: { enabled: true },
        },
      }, {
        type: "client/state",
        payload: {
          available: true,
          player: {
            volume: 100,
            muted: false,
            output_delay_ms: 0,
            supported_commands: ["volume", "mute"],
          },
        },
      }]);
      assert.equal(client.activations.length, 1);
      assert.deepEqual(client.activeRoles, ["player@v1", "controller@v1", "metadata@v1"]);
      assert.deepEqual(client.faults, []);
    });
  });
}

Deno.test("an audio chunk's 13-byte header, a fragmented JSON message, an unknown binary id", async () => {
  await connected({}, {}, async (client, standIn) => {
    await client.waitFor("client/state", () => standIn.received.length >= 2);
    standIn.sendJson("stream/start", { server_transmitted: nowUs(), player: { codec: "pcm" } });
    const chunk = new Uint8Array(12 + 960);
    new DataView(chunk.buffer).setBigInt64(0, 123_456_789_012n);
    new DataView(chunk.buffer).setUint32(8, 250_000);
    chunk.fill(7, 12);
    standIn.sendBinary(4, chunk);
    const blob = "x".repeat(150_000); // three fragments
    standIn.sendJson("_test/big", { blob });
    standIn.sendBinary(200, new Uint8Array(10)); // unknown: ignored
    standIn.sendJson("group/update", { playback_state: "playing", group_id: "g", group_name: "g" });
    await client.next("group/update");
    assert.equal(client.chunks.length, 1);
    assert.equal(client.chunks[0].playAtUs, 123_456_789_012);
    assert.equal(client.chunks[0].sendAheadUs, 250_000);
    assert.deepEqual(client.chunks[0].payload, new Uint8Array(960).fill(7));
    assert.equal(client.messagesOf("_test/big")[0].payload.blob, blob);
    assert.deepEqual(client.faults, []);
  });
});

Deno.test("a re-handshake to the long-term PSK: new keys both ways, the activation first", async () => {
  const longTerm = randomPsk();
  await connected({}, { psks: { longTerm } }, async (client, standIn) => {
    await client.waitFor("client/state", () => standIn.received.length >= 2);
    const firstHash = client.handshakeHash;
    await standIn.rehandshake("lt", longTerm);
    await client.waitFor("the new activation", () => client.activations.length === 2);
    assert.equal(client.rehandshakes, 1);
    assert.equal(client.matchedPsk, "lt");
    assert.notDeepEqual(client.handshakeHash, firstHash);
    assert.deepEqual(client.handshakeHash, standIn.handshakeHash);
    assert.deepEqual(client.activeRoles, ["player@v1", "controller@v1", "metadata@v1"]); // kept
    standIn.sendJson("server/command", { player: { command: "volume", volume: 40 } });
    await client.waitFor(
      "client/state volume 40",
      () =>
        standIn.received.some((m) =>
          m.type === "client/state" && (m.payload.player as { volume?: number })?.volume === 40
        ),
    );
    assert.deepEqual(client.faults, []);
  });
});

Deno.test("a re-handshake naming a PSK the client lacks fails silently, no Sentinel", async () => {
  await connected({}, {}, async (client, standIn) => {
    await client.waitFor("client/state", () => standIn.received.length >= 2);
    const sent = standIn.binaryIn.length;
    const refused = assert.rejects(
      standIn.rehandshake("lt", randomPsk()),
      /closed before message 2/,
    );
    await client.waitFor("the close", () => client.closed !== undefined);
    assert.match(client.faults.join(), /does not hold \(no Sentinel fallback/);
    assert.equal(client.rehandshakes, 0);
    assert.equal(standIn.binaryIn.length, sent, "the client answered message 1");
    await refused;
  });
});

Deno.test("a first message under the new keys other than server/activate is a fault", async () => {
  const longTerm = randomPsk();
  await connected({}, { psks: { longTerm } }, async (client, standIn) => {
    await client.waitFor("client/state", () => standIn.received.length >= 2);
    await standIn.rehandshake("lt", longTerm, "group/update");
    await client.waitFor("the new activation", () => client.activations.length === 2);
    assert.deepEqual(client.faults, [
      "group/update was the first message under the new keys, not server/activate",
    ]);
  });
});

Deno.test('state "hold": no client/state until the test sends one, then the whole object', async () => {
  await connected({}, { state: "hold", outputDelayMs: 120 }, async (client, standIn) => {
    await client.timeProbes(1); // after the activation, and a barrier for what the client sent
    assert.deepEqual(standIn.received.map((m) => m.type), ["client/hello", "client/time"]);
    client.sendState({ volume: 30 }, false);
    await client.waitFor("client/state", () => standIn.received.length === 3);
    assert.deepEqual(standIn.received[2].payload, {
      available: false,
      player: {
        volume: 30,
        muted: false,
        output_delay_ms: 120,
        supported_commands: ["volume", "mute"],
      },
    });
  });
});

Deno.test("Sentinel fallback: the server names an lt PSK the client lacks", async () => {
  const reference = { category: "lt" as const, psk: randomPsk() };
  await connected({ reference }, {}, async (client, standIn) => {
    assert.equal(client.matchedPsk, "sentinel-fallback");
    assert.equal(standIn.matched, "sentinel");
    assert.deepEqual(client.handshakeHash, standIn.handshakeHash);
    await client.waitFor("activation", () => client.activations.length === 1);
  });
});

Deno.test("the lt PSK the server names is used when the client holds it", async () => {
  const reference = { category: "lt" as const, psk: randomPsk() };
  await connected({ reference }, { psks: { longTerm: reference.psk } }, async (client, standIn) => {
    assert.equal(client.matchedPsk, "lt");
    assert.equal(standIn.matched, "referenced");
    await client.waitFor("activation", () => client.activations.length === 1);
  });
});

Deno.test("server/error for an unknown suite: connect fails naming the reason", async () => {
  await withStandIn({}, async (url) => {
    const suite = "25519_Bogus_SHA256" as EncryptedClientOptions["suite"];
    await assert.rejects(
      EncryptedClient.connect(url, { suite }),
      /server\/error "unsupported_suite"/,
    );
  });
});

Deno.test("a server that dials the client: speakOn sends client/init first", async () => {
  const { promise, resolve } = Promise.withResolvers<EncryptedClient>();
  const listener = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    EncryptedClient.speakOn(socket, { name: "dialled" }).then(resolve);
    return response;
  });
  const standIn = new StandIn(new WebSocket(`ws://127.0.0.1:${listener.addr.port}/sendspin`));
  const client = await promise;
  try {
    await client.waitFor("client/state", () => standIn.received.length >= 2);
    assert.equal(standIn.received[0].payload.name, "dialled");
    assert.deepEqual(client.handshakeHash, standIn.handshakeHash);
  } finally {
    await client.close();
    await listener.shutdown();
  }
});

Deno.test("time probes: eight in sequence, the shortest round trip", async () => {
  await connected({}, {}, async (client, standIn) => {
    const { offsetUs, rttUs } = await client.timeProbes();
    assert.equal(standIn.received.filter((m) => m.type === "client/time").length, 8);
    assert.ok(rttUs >= 0 && rttUs < 50_000, `rtt ${rttUs} µs`);
    const errorUs = offsetUs - SERVER_CLOCK_AHEAD_US; // at most half the round trip
    assert.ok(Math.abs(errorUs) <= rttUs / 2 + 1, `offset ${offsetUs} µs, rtt ${rttUs} µs`);
  });
});

Deno.test("cleartext after the handshake, or a bad tag: recorded, and the client closes", async () => {
  for (const hostile of ["text", "garbage"]) {
    await connected({}, {}, async (client, standIn) => {
      await client.waitFor("client/state", () => standIn.received.length >= 2);
      if (hostile === "text") standIn.socket.send('{"type":"server/time","payload":{}}');
      else standIn.socket.send(crypto.getRandomValues(new Uint8Array(40)));
      await client.waitFor("the close", () => client.closed !== undefined);
      assert.match(client.faults.join(), hostile === "text" ? /cleartext text frame/ : /refused/);
    });
  }
});

Deno.test("replayLastSent sends the same bytes again, which the server's receiver refuses", async () => {
  await connected({}, {}, async (client, standIn) => {
    await client.waitFor("client/state", () => standIn.received.length >= 2);
    client.replayLastSent();
    await client.waitFor("the stand-in's refusal", () => standIn.failure !== undefined);
    const [last, replayed] = standIn.binaryIn.slice(-2);
    assert.deepEqual(replayed, last);
    assert.match(standIn.failure!, /TransportCloseError/);
  });
});
