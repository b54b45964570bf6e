// The encrypted test client's side of pairing (support/encrypted/pairing.ts) against a stand-in
// server written here: its Noise layer is the server's protocol/noise/ (as in
// encrypted_client_selftest_test.ts), its pairing side is this file's own, with the test-side
// CPace as party A. Only as much server as these checks need; it is not the product.
import assert from "node:assert/strict";
import { decodeBase64Url, encodeBase64Url } from "../../protocol/noise/base64url.ts";
import { Kkpsk2Initiator } from "../../protocol/noise/kkpsk2.ts";
import { generateKeyPair } from "../../protocol/noise/keys.ts";
import { pskId, SENTINEL_PSK } from "../../protocol/noise/psk.ts";
import type { SuiteName } from "../../protocol/noise/suites.ts";
import { TransportReceiver, TransportSender } from "../../protocol/noise/transport.ts";
import {
  EncryptedClient,
  type EncryptedClientOptions,
  type PairingTamper,
} from "./encrypted/client.ts";
import { codeDigest, commitOf, deriveCode, pairingSid, unwrap } from "./encrypted/pairing.ts";
import { cpaceShare, finishInitiator } from "./pake/cpace.ts";
import { decodeToken } from "./pairing/token.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const NO_ROLES = { activities: [], active_roles: [] };
const PLAYING = { activities: ["playback"], active_roles: ["player@v1"] };
type Message = { type: string; payload: Record<string, unknown> };

/** The server side of one connection: Sentinel handshake, hello, an empty activation. */
class StandIn {
  readonly keys = generateKeyPair();
  readonly received: Message[] = [];
  handshakeHash: Uint8Array = new Uint8Array(0);
  suite: SuiteName = "25519_ChaChaPoly_SHA256";
  clientKey: Uint8Array = new Uint8Array(0);
  #taken = new Set<Message>();
  #initiator?: Kkpsk2Initiator;
  #sender?: TransportSender;
  #receiver?: TransportReceiver;
  #rehandshake?: {
    initiator: Kkpsk2Initiator;
    psk: Uint8Array;
    activate: object;
    done: () => void;
  };

  constructor(readonly socket: WebSocket) {
    socket.binaryType = "arraybuffer";
    socket.onmessage = ({ data }) => {
      if (typeof data === "string") this.#onText(data);
      else this.#onBinary(new Uint8Array(data));
    };
  }

  sendJson(type: string, payload: object) {
    for (const message of this.#sender!.sealJson(JSON.stringify({ type, payload }))) {
      this.socket.send(message);
    }
  }

  /** The oldest message of `type` not taken yet, waiting for it if need be. */
  async take(type: string, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const message = this.received.find((m) => m.type === type && !this.#taken.has(m));
      if (message) return (this.#taken.add(message), message.payload);
      if (performance.now() > end) {
        throw new Error(`no ${type}; received ${this.received.map((m) => m.type)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Re-handshake to `psk`, then `activate` under the new keys; resolves once it went out. */
  rehandshake(category: "lt" | "pr", psk: Uint8Array, activate: object): Promise<void> {
    const initiator = this.#newInitiator(this.handshakeHash);
    const message1 = initiator.writeMessage1(
      utf8(JSON.stringify({ psk_id: pskId(psk), psk_category: category })),
    );
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#rehandshake = { initiator, psk, activate, done: resolve };
    this.sendJson("noise/handshake", { data: encodeBase64Url(message1) });
    return promise;
  }

  #newInitiator(prologue: Uint8Array) {
    return new Kkpsk2Initiator({
      suite: this.suite,
      prologue,
      localStatic: this.keys,
      remoteStaticPublicKey: this.clientKey,
    });
  }

  #onText(data: string) {
    const message = JSON.parse(data);
    if (this.#initiator) {
      const result = this.#initiator.readMessage2(
        decodeBase64Url(message.payload.data),
        SENTINEL_PSK,
      );
      this.#install(result);
      return this.sendJson("server/hello", { name: "pairing stand-in" });
    }
    this.suite = message.payload.suite;
    this.clientKey = decodeBase64Url(message.payload.client_id, { byteLength: 32 });
    const serverInit = JSON.stringify({
      type: "server/init",
      payload: { server_id: encodeBase64Url(this.keys.publicKey), version: 1 },
    });
    this.socket.send(serverInit);
    this.#initiator = this.#newInitiator(utf8(data + serverInit));
    const payload = JSON.stringify({ psk_id: pskId(SENTINEL_PSK), psk_category: "sn" });
    const message1 = this.#initiator.writeMessage1(utf8(payload));
    this.socket.send(JSON.stringify({
      type: "noise/handshake",
      payload: { data: encodeBase64Url(message1) },
    }));
  }

  #install(result: ReturnType<Kkpsk2Initiator["readMessage2"]>) {
    this.#sender = new TransportSender(result.send);
    this.#receiver = new TransportReceiver(result.receive);
    this.handshakeHash = result.handshakeHash;
  }

  #onBinary(bytes: Uint8Array) {
    const opened = this.#receiver!.open(bytes);
    if (!opened || opened.type !== 0) return;
    const message = JSON.parse(text(opened.body)) as Message;
    this.received.push(message);
    if (message.type === "client/hello") this.sendJson("server/activate", NO_ROLES);
    else if (message.type === "noise/handshake" && this.#rehandshake) {
      const { initiator, psk, activate, done } = this.#rehandshake;
      this.#rehandshake = undefined;
      this.#install(initiator.readMessage2(decodeBase64Url(String(message.payload.data)), psk));
      this.sendJson("server/activate", activate);
      done();
    }
  }
}

/** One client on a stand-in, both closed afterwards. */
async function paired(
  options: EncryptedClientOptions,
  body: (client: EncryptedClient, standIn: StandIn) => Promise<void>,
) {
  const standIns: StandIn[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    standIns.push(new StandIn(socket));
    return response;
  });
  try {
    const client = await EncryptedClient.connect(`http://127.0.0.1:${server.addr.port}/`, options);
    try {
      await client.waitFor("the first activation", () => client.activations.length === 1);
      await body(client, standIns[0]);
    } finally {
      await client.close();
    }
  } finally {
    for (const standIn of standIns) standIn.socket.close();
    await server.shutdown();
  }
}

const ADS = { ada: utf8("server"), adb: utf8("client") };

/** The stand-in's CPace round as party A with `prs`: pair-auth out, pair-auth in, pair-confirm out. */
async function serverRound(standIn: StandIn, prs: Uint8Array, index: number, round: number) {
  const sid = pairingSid(standIn.handshakeHash, index, round);
  const inputs = { prs, sid, ...ADS };
  const a = cpaceShare(inputs);
  standIn.sendJson("server/pair-auth", { pake_msg_1: encodeBase64Url(a.share) });
  const { pake_msg_2 } = await standIn.take("client/pair-auth");
  const yb = decodeBase64Url(String(pake_msg_2), { byteLength: 32 });
  const keys = finishInitiator(inputs, a.scalar, a.share, yb);
  standIn.sendJson("server/pair-confirm", { server_kc: encodeBase64Url(keys.ta) });
  return { sid, keys };
}

/** After a finalize: the re-handshake to the new long-term PSK and a paired activation. */
async function promote(client: EncryptedClient, standIn: StandIn, longTerm: Uint8Array) {
  standIn.sendJson("server/pair-finalize", {});
  await client.waitFor("the record", () => client.pairings.length === 1);
  assert.deepEqual(client.psks.longTerm, longTerm);
  assert.equal(client.psks.longTermServerId, client.serverId);
  const rehandshakes = client.rehandshakes;
  await standIn.rehandshake("lt", longTerm, PLAYING);
  await client.waitFor("the paired activation", () => client.rehandshakes === rehandshakes + 1);
  await client.waitFor("its activation", () => client.activeRoles.includes("player@v1"));
  assert.equal(client.matchedPsk, "lt");
}

Deno.test("pairing PSK flow: re-handshake to the pairing PSK, finalize, re-handshake to lt", async () => {
  await paired({}, async (client, standIn) => {
    const { payload } = decodeToken(client.pairingToken, "0");
    assert.deepEqual(payload.slice(0, 32), standIn.clientKey); // the token's client_key
    const pairingPsk = payload.slice(32);
    assert.deepEqual(client.psks.pairing, pairingPsk);
    await standIn.rehandshake("pr", pairingPsk, {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "pairing_psk" },
    });
    assert.deepEqual(await standIn.take("client/pair-init"), { pairing_index: 1 });
    const finalize = await standIn.take("client/pair-finalize");
    assert.deepEqual(Object.keys(finalize), ["long_term_psk"]);
    const longTerm = decodeBase64Url(String(finalize.long_term_psk), { byteLength: 32 });
    assert.equal(client.matchedPsk, "pr");
    await promote(client, standIn, longTerm);
    assert.equal(client.pairings[0].method, "pairing_psk");
    assert.deepEqual(client.faults, [], client.describe());
  });
});

Deno.test("static pairing code: one CPace round, client_kc, wrapped_psk, then lt", async () => {
  const code = { kind: "static" as const, code: "20481024" };
  await paired({ pairing: { code }, unpairedAccess: false }, async (client, standIn) => {
    assert.deepEqual(standIn.received[0].payload.supported_pair_methods, {
      pairing_psk: {},
      static_pairing_code: { locations: ["device"] },
    });
    standIn.sendJson("server/activate", {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "static_pairing_code" },
    });
    assert.deepEqual(await standIn.take("client/pair-init"), { pairing_index: 1 });
    const { sid, keys } = await serverRound(standIn, utf8("20481024"), 1, 1);
    const confirm = await standIn.take("client/pair-confirm");
    assert.deepEqual(confirm, { client_kc: encodeBase64Url(keys.tb) });
    const { wrapped_psk } = await standIn.take("client/pair-finalize");
    const wrapped = decodeBase64Url(String(wrapped_psk), { byteLength: 48 });
    const longTerm = unwrap(standIn.suite, "sendspin-pair-psk-wrap-v1", sid, keys.isk, wrapped);
    await promote(client, standIn, longTerm);
    assert.deepEqual(client.faults, [], client.describe());
  });
});

Deno.test("static pairing code: a wrong code ends in pair/abort pairing_code_mismatch", async () => {
  const code = { kind: "static" as const, code: "20481024" };
  await paired({ pairing: { code } }, async (client, standIn) => {
    standIn.sendJson("server/activate", {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "static_pairing_code" },
    });
    await standIn.take("client/pair-init");
    await serverRound(standIn, utf8("20481025"), 1, 1);
    assert.deepEqual(await standIn.take("pair/abort"), { reason: "pairing_code_mismatch" });
    assert.deepEqual(client.pairAbortsSent, ["pairing_code_mismatch"]);
    assert.deepEqual(client.pairings, []);
    assert.deepEqual(client.faults, [], client.describe());
  });
});

for (
  const [format, suite] of [
    ["digits", "25519_ChaChaPoly_SHA256"],
    ["qr_code", "25519_AESGCM_SHA256"],
  ] as const
) {
  Deno.test(`dynamic pairing code (${format}, ${suite}): a wrong code, pair-retry, the right one`, async () => {
    const code = { kind: "dynamic" as const, formats: ["digits" as const, "qr_code" as const] };
    const options = { suite, pairing: { code } };
    await paired(options, async (client, standIn) => {
      assert.deepEqual(standIn.received[0].payload.supported_pair_methods, {
        pairing_psk: {},
        dynamic_pairing_code: { out_channels: ["display"], formats: ["digits", "qr_code"] },
      });
      standIn.sendJson("server/activate", {
        activities: ["pairing"],
        active_roles: [],
        pairing: { method: "dynamic_pairing_code", format },
      });
      const init = await standIn.take("client/pair-init");
      assert.equal(init.pairing_index, 1);
      const commit = decodeBase64Url(String(init.commit_B), { byteLength: 32 });
      const nonceA = crypto.getRandomValues(new Uint8Array(32));
      standIn.sendJson("server/pair-init", { nonce_A: encodeBase64Url(nonceA) });
      const shown = await client.nextPairingCode();
      assert.match(shown, format === "digits" ? /^\d{6}$/ : /^SP:1[0-9A-Z]{39}$/);
      const entered = format === "digits" ? utf8(shown) : decodeToken(shown, "1").payload;
      const wrong = entered.slice();
      wrong[0] ^= 1;

      await serverRound(standIn, wrong, 1, 1);
      assert.deepEqual(await standIn.take("client/pair-retry"), {});
      standIn.sendJson("server/pair-init", {}); // round 2: no nonce_A
      assert.equal(await client.nextPairingCode(), shown, "the same code, emitted again");
      const { sid, keys } = await serverRound(standIn, entered, 1, 2);

      const confirm = await standIn.take("client/pair-confirm");
      assert.equal(confirm.client_kc, encodeBase64Url(keys.tb));
      const wrappedNonce = decodeBase64Url(String(confirm.wrapped_nonce_B), { byteLength: 48 });
      const nonceB = unwrap(suite, "sendspin-pair-nonce-wrap-v1", sid, keys.isk, wrappedNonce);
      assert.deepEqual(commitOf(nonceB), commit);
      const digest = codeDigest(standIn.handshakeHash, nonceA, nonceB);
      assert.deepEqual(deriveCode(digest, format).prs, entered); // the binding check
      const { wrapped_psk } = await standIn.take("client/pair-finalize");
      const wrapped = decodeBase64Url(String(wrapped_psk), { byteLength: 48 });
      const longTerm = unwrap(suite, "sendspin-pair-psk-wrap-v1", sid, keys.isk, wrapped);
      await promote(client, standIn, longTerm);
      assert.equal(client.pairings[0].method, "dynamic_pairing_code");
      assert.deepEqual(client.faults, [], client.describe());
    });
  });
}

Deno.test("method_not_supported: a method not offered, pairing_psk off the pairing PSK, a format", async () => {
  const pairing = { code: { kind: "dynamic" as const } }; // digits only
  await paired({ pairing }, async (client, standIn) => {
    const activate = (method: string, format?: string) =>
      standIn.sendJson("server/activate", {
        activities: ["pairing"],
        active_roles: [],
        pairing: format ? { method, format } : { method },
      });
    activate("static_pairing_code");
    assert.deepEqual(await standIn.take("pair/abort"), { reason: "method_not_supported" });
    activate("pairing_psk"); // on a Sentinel connection
    assert.deepEqual(await standIn.take("pair/abort"), { reason: "method_not_supported" });
    activate("dynamic_pairing_code", "qr_code");
    assert.deepEqual(await standIn.take("pair/abort"), { reason: "method_not_supported" });
    activate("dynamic_pairing_code", "digits"); // offered: the attempt starts, index 4
    assert.equal((await standIn.take("client/pair-init")).pairing_index, 4);
    assert.deepEqual(client.pairAbortsSent, Array(3).fill("method_not_supported"));
    assert.equal(client.faults.length, 2, client.describe());
    assert.match(client.faults[0], /static_pairing_code, which the client does not offer/);
    assert.match(client.faults[1], /pairing_psk on a connection whose matched PSK is sn/);
  });
});

Deno.test("holdBack: client/pair-pending with its message, then pair-init on releasePending", async () => {
  const pairing = {
    code: { kind: "static" as const, code: "11112222" },
    holdBack: "Press the button",
  };
  await paired({ pairing }, async (client, standIn) => {
    standIn.sendJson("server/activate", {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "static_pairing_code" },
    });
    assert.deepEqual(await standIn.take("client/pair-pending"), {
      pairing_index: 1,
      message: "Press the button",
    });
    client.releasePending();
    assert.deepEqual(await standIn.take("client/pair-init"), { pairing_index: 1 });
    standIn.sendJson("pair/abort", { reason: "user_cancelled" });
    await client.waitFor("the abort", () => client.pairAbortsReceived.length === 1);
    assert.deepEqual(client.pairAbortsReceived, ["user_cancelled"]);
    assert.deepEqual(client.faults, [], client.describe());
  });
});

Deno.test("server faults: pair-auth before pair-init closes; a second nonce_A closes", async () => {
  const pairing = { code: { kind: "static" as const, code: "11112222" }, holdBack: "" };
  await paired({ pairing }, async (client, standIn) => {
    standIn.sendJson("server/activate", {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "static_pairing_code" },
    });
    assert.deepEqual(await standIn.take("client/pair-pending"), { pairing_index: 1 });
    standIn.sendJson("server/pair-auth", { pake_msg_1: encodeBase64Url(new Uint8Array(32)) });
    await client.waitFor("the close", () => client.closed !== undefined);
    assert.match(client.faults.join(), /server\/pair-auth before client\/pair-init/);
  });
  await paired({ pairing: { code: { kind: "dynamic" } } }, async (client, standIn) => {
    standIn.sendJson("server/activate", {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "dynamic_pairing_code", format: "digits" },
    });
    await standIn.take("client/pair-init");
    const nonceA = encodeBase64Url(new Uint8Array(32).fill(7));
    standIn.sendJson("server/pair-init", { nonce_A: nonceA });
    await serverRound(standIn, utf8("not it"), 1, 1);
    await standIn.take("client/pair-retry");
    standIn.sendJson("server/pair-init", { nonce_A: nonceA });
    await client.waitFor("the close", () => client.closed !== undefined);
    assert.match(client.faults.join(), /a second nonce_A in round 2/);
  });
});

Deno.test("tamper future_index and second_init; a server/activate after finalize persists nothing", async () => {
  await paired(
    { pairing: { tamper: "future_index", code: { kind: "dynamic" } } },
    async (_, standIn) => {
      standIn.sendJson("server/activate", {
        activities: ["pairing"],
        active_roles: [],
        pairing: { method: "dynamic_pairing_code", format: "digits" },
      });
      assert.equal((await standIn.take("client/pair-init")).pairing_index, 2);
    },
  );
  await paired({ pairing: { tamper: "second_init" } }, async (client, standIn) => {
    const pairingPsk = decodeToken(client.pairingToken).payload.slice(32);
    await standIn.rehandshake("pr", pairingPsk, {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "pairing_psk" },
    });
    await standIn.take("client/pair-init");
    await standIn.take("client/pair-init");
    await standIn.take("client/pair-finalize");
    standIn.sendJson("server/activate", NO_ROLES); // in place of server/pair-finalize
    await client.waitFor("the activation", () => client.activations.length === 3);
    assert.deepEqual(client.pairings, []);
    assert.equal(client.psks.longTerm, undefined);
  });
});

Deno.test("a playback activation on a Sentinel connection without unpaired access is a fault", async () => {
  await paired({ unpairedAccess: false }, async (client, standIn) => {
    standIn.sendJson("server/activate", PLAYING);
    await client.waitFor("the activation", () => client.activations.length === 2);
    assert.match(client.faults.join(), /'playback' on a sn-keyed connection while unpaired access/);
  });
});

/** The server's checks of pairing.md "Server verification", in order: the first that fails. */
async function serverVerdict(tamper?: PairingTamper): Promise<string> {
  let verdict = "all pass";
  await paired({ pairing: { tamper, code: { kind: "dynamic" } } }, async (client, standIn) => {
    standIn.sendJson("server/activate", {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "dynamic_pairing_code", format: "digits" },
    });
    const init = await standIn.take("client/pair-init");
    const nonceA = crypto.getRandomValues(new Uint8Array(32));
    standIn.sendJson("server/pair-init", { nonce_A: encodeBase64Url(nonceA) });
    const shown = await client.nextPairingCode();
    const sid = pairingSid(standIn.handshakeHash, 1, 1);
    const inputs = { prs: utf8(shown), sid, ...ADS };
    const a = cpaceShare(inputs);
    standIn.sendJson("server/pair-auth", { pake_msg_1: encodeBase64Url(a.share) });
    const yb = decodeBase64Url(String((await standIn.take("client/pair-auth")).pake_msg_2));
    let keys;
    try {
      keys = finishInitiator(inputs, a.scalar, a.share, yb);
    } catch (error) {
      return void (verdict = `share: ${(error as Error).name}`);
    }
    standIn.sendJson("server/pair-confirm", { server_kc: encodeBase64Url(keys.ta) });
    const confirm = await standIn.take("client/pair-confirm");
    const finalize = await standIn.take("client/pair-finalize");
    if (confirm.client_kc !== encodeBase64Url(keys.tb)) return void (verdict = "client_kc");
    const open = (label: Parameters<typeof unwrap>[1], field: unknown) =>
      unwrap(standIn.suite, label, sid, keys.isk, decodeBase64Url(String(field)));
    let nonceB;
    try {
      nonceB = open("sendspin-pair-nonce-wrap-v1", confirm.wrapped_nonce_B);
    } catch {
      return void (verdict = "wrapped_nonce_B");
    }
    if (encodeBase64Url(commitOf(nonceB)) !== init.commit_B) return void (verdict = "commit_B");
    const derived = deriveCode(codeDigest(standIn.handshakeHash, nonceA, nonceB), "digits");
    if (derived.shown !== shown) return void (verdict = "binding");
    try {
      open("sendspin-pair-psk-wrap-v1", finalize.wrapped_psk);
    } catch {
      return void (verdict = "wrapped_psk");
    }
  });
  return verdict;
}

Deno.test("each cryptographic tamper knob fails exactly the server check it aims at", async () => {
  assert.equal(await serverVerdict(), "all pass");
  assert.equal(await serverVerdict("low_order_share"), "share: CPaceAbort");
  assert.equal(await serverVerdict("client_kc"), "client_kc");
  assert.equal(await serverVerdict("wrapped_nonce"), "wrapped_nonce_B");
  assert.equal(await serverVerdict("commit"), "commit_B");
  assert.equal(await serverVerdict("wrapped_psk"), "wrapped_psk");
});

Deno.test("round limit: the 20th wrong round aborts, the next attempt is held back", async () => {
  await paired({ pairing: { code: { kind: "dynamic" } } }, async (client, standIn) => {
    const activation = {
      activities: ["pairing"],
      active_roles: [],
      pairing: { method: "dynamic_pairing_code", format: "digits" },
    };
    standIn.sendJson("server/activate", activation);
    await standIn.take("client/pair-init");
    standIn.sendJson("server/pair-init", { nonce_A: encodeBase64Url(new Uint8Array(32)) });
    for (let round = 1; round <= 20; round++) {
      if (round > 1) standIn.sendJson("server/pair-init", {});
      await serverRound(standIn, utf8("wrong"), 1, round);
      if (round < 20) await standIn.take("client/pair-retry");
    }
    assert.deepEqual(await standIn.take("pair/abort"), { reason: "pairing_code_mismatch" });
    assert.equal(client.pairingCodes.length, 20);
    standIn.sendJson("server/activate", activation);
    const pending = await standIn.take("client/pair-pending");
    assert.equal(pending.pairing_index, 2);
    assert.equal(typeof pending.message, "string");
    client.releasePending(); // the operator's deliberate action resets the count
    assert.ok((await standIn.take("client/pair-init")).commit_B);
    assert.deepEqual(client.faults, [], client.describe());
  });
});
