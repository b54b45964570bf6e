// The server's initiator against the independent test client (@noble), random keys, both
// suites: the behaviours a session will rely on.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  HandshakeError,
  type HandshakeResult,
  Kkpsk2Initiator,
} from "../../../protocol/noise/kkpsk2.ts";
import { generateKeyPair, type X25519KeyPair } from "../../../protocol/noise/keys.ts";
import { pskId, SENTINEL_PSK, SENTINEL_PSK_ID } from "../../../protocol/noise/psk.ts";
import { SUITE_NAMES, type SuiteName } from "../../../protocol/noise/suites.ts";
import {
  TransportCloseError,
  TransportReceiver,
  TransportSender,
} from "../../../protocol/noise/transport.ts";
import { sealMessage, TestReceiver } from "../../support/noise/framing.ts";
import { utf8 } from "../../support/noise/hex.ts";
import { TestResponder } from "../../support/noise/responder.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Pair {
  server: X25519KeyPair;
  client: X25519KeyPair;
}

function start(suite: SuiteName, keys: Pair, prologue: Uint8Array, psk: Uint8Array) {
  const initiator = new Kkpsk2Initiator({
    suite,
    prologue,
    localStatic: keys.server,
    remoteStaticPublicKey: keys.client.publicKey,
  });
  const responder = new TestResponder({
    suite,
    prologue,
    staticPrivateKey: keys.client.privateKey,
    remoteStaticPublicKey: keys.server.publicKey,
  });
  const message1 = initiator.writeMessage1(
    utf8(JSON.stringify({ psk_id: pskId(psk), psk_category: "sn" })),
  );
  return { initiator, responder, message1 };
}

/** A complete handshake under `psk`, and the transport ends of both sides. */
function connect(suite: SuiteName, keys: Pair, prologue: Uint8Array, psk = SENTINEL_PSK) {
  const { initiator, responder, message1 } = start(suite, keys, prologue, psk);
  const hello = JSON.parse(decode(responder.readMessage1(message1)));
  assert.equal(hello.psk_id, pskId(psk));
  const result = initiator.readMessage2(responder.writeMessage2(utf8("{}"), psk), psk);
  assert.equal(decode(result.payload), "{}");
  assert.deepEqual(result.handshakeHash, responder.handshakeHash);
  return { result, responder, ...ends(result, responder) };
}

function ends(result: HandshakeResult, responder: TestResponder) {
  return {
    serverOut: new TransportSender(result.send),
    serverIn: new TransportReceiver(result.receive),
    clientIn: new TestReceiver(responder.receive!),
    clientOut: responder.send!,
  };
}

const keyPairs = (): Pair => ({ server: generateKeyPair(), client: generateKeyPair() });
const prologue = () => utf8(`{"type":"client/init"...}{"type":"server/init"...}${Math.random()}`);

for (const suite of SUITE_NAMES) {
  Deno.test(`${suite}: server and test client handshake and exchange messages both ways`, () => {
    const { serverOut, serverIn, clientIn, clientOut } = connect(suite, keyPairs(), prologue());
    for (let i = 0; i < 20; i++) {
      const text = JSON.stringify({ type: "server/time", payload: { i } });
      const [message] = serverOut.sealJson(text);
      assert.deepEqual(clientIn.open(message), { type: 0, body: utf8(text) });
      const audio = randomBytes(1000 + i);
      const [chunk] = sealMessage(clientOut, 4, audio);
      assert.deepEqual(serverIn.open(chunk), { type: 4, body: new Uint8Array(audio) });
    }
  });

  Deno.test(`${suite}: a re-handshake with prologue = previous h, carried under the old keys`, () => {
    const keys = keyPairs();
    const old = connect(suite, keys, prologue());
    const next = start(suite, keys, old.result.handshakeHash, SENTINEL_PSK);
    // msg 1 and msg 2 travel as type-0 JSON under the old keys.
    const wrap = (bytes: Uint8Array) => utf8(JSON.stringify({ data: Array.from(bytes) }));
    const unwrap = (body: Uint8Array) => Uint8Array.from(JSON.parse(decode(body)).data);
    const carried1 = old.clientIn.open(old.serverOut.seal(0, wrap(next.message1))[0])!;
    next.responder.readMessage1(unwrap(carried1.body));
    const message2 = next.responder.writeMessage2(utf8("{}"), SENTINEL_PSK);
    const carried2 = old.serverIn.open(sealMessage(old.clientOut, 0, wrap(message2))[0])!;
    const result = next.initiator.readMessage2(unwrap(carried2.body), SENTINEL_PSK);
    assert.notDeepEqual(result.handshakeHash, old.result.handshakeHash);
    assert.deepEqual(result.handshakeHash, next.responder.handshakeHash);
    const fresh = ends(result, next.responder);
    const [activate] = fresh.serverOut.sealJson('{"type":"server/activate","payload":{}}');
    assert.throws(() => old.clientIn.open(activate)); // old keys cannot read it
    assert.equal(fresh.clientIn.open(activate)?.type, 0);
    assert.equal(fresh.serverIn.open(sealMessage(fresh.clientOut, 0, utf8("{}"))[0])?.type, 0);
  });

  Deno.test(`${suite}: the Sentinel fallback verifies msg 2 again from the state after msg 1`, () => {
    const keys = keyPairs();
    const longTerm = randomBytes(32);
    const { initiator, responder, message1 } = start(suite, keys, prologue(), longTerm);
    const payload = JSON.parse(decode(responder.readMessage1(message1)));
    assert.notEqual(payload.psk_id, SENTINEL_PSK_ID); // a miss for this client: fall back
    const message2 = responder.writeMessage2(utf8("{}"), SENTINEL_PSK);
    assert.throws(() => initiator.readMessage2(message2, longTerm), HandshakeError);
    assert.throws(() => initiator.readMessage2(message2, randomBytes(32)), HandshakeError);
    const result = initiator.readMessage2(message2, SENTINEL_PSK);
    assert.deepEqual(result.handshakeHash, responder.handshakeHash);
    const { serverOut, clientIn } = ends(result, responder);
    assert.equal(clientIn.open(serverOut.sealJson("{}")[0])?.type, 0);
    assert.throws(() => initiator.readMessage2(message2, SENTINEL_PSK), /already complete/);
  });

  Deno.test(`${suite}: a wrong PSK fails the handshake`, () => {
    const keys = keyPairs();
    const { initiator, responder, message1 } = start(suite, keys, prologue(), SENTINEL_PSK);
    responder.readMessage1(message1);
    const message2 = responder.writeMessage2(utf8("{}"), randomBytes(32));
    assert.throws(() => initiator.readMessage2(message2, SENTINEL_PSK), HandshakeError);
  });

  Deno.test(`${suite}: a tampered msg 1 fails at the client, a tampered msg 2 at the server`, () => {
    const keys = keyPairs();
    const bytes = prologue();
    const { message1 } = start(suite, keys, bytes, SENTINEL_PSK);
    for (const at of [0, 31, 32, message1.length - 1]) {
      const tampered = message1.slice();
      tampered[at] ^= 0x01;
      const { responder } = start(suite, keys, bytes, SENTINEL_PSK);
      assert.throws(() => responder.readMessage1(tampered), `msg 1 byte ${at}`);
    }
    const { initiator, responder, message1: fresh } = start(suite, keys, bytes, SENTINEL_PSK);
    responder.readMessage1(fresh);
    const message2 = responder.writeMessage2(utf8("{}"), SENTINEL_PSK);
    for (let at = 0; at < message2.length; at++) {
      const tampered = message2.slice();
      tampered[at] ^= 0x80;
      assert.throws(
        () => initiator.readMessage2(tampered, SENTINEL_PSK),
        HandshakeError,
        `msg 2 byte ${at}`,
      );
    }
    assert.throws(
      () => initiator.readMessage2(message2.subarray(0, 47), SENTINEL_PSK),
      HandshakeError,
    );
    assert.ok(initiator.readMessage2(message2, SENTINEL_PSK)); // the failures changed nothing
  });

  Deno.test(`${suite}: msg 1 is readable only with the client static key it was written for`, () => {
    const keys = keyPairs();
    const bytes = prologue();
    const { message1 } = start(suite, keys, bytes, SENTINEL_PSK);
    const responderWith = (staticPrivateKey: Uint8Array, prologue: Uint8Array) =>
      new TestResponder({
        suite,
        prologue,
        staticPrivateKey,
        remoteStaticPublicKey: keys.server.publicKey,
      });
    assert.throws(() => responderWith(generateKeyPair().privateKey, bytes).readMessage1(message1));
    assert.throws(() =>
      responderWith(keys.client.privateKey, utf8("other")).readMessage1(message1)
    );
    assert.doesNotThrow(() => responderWith(keys.client.privateKey, bytes).readMessage1(message1));
  });

  Deno.test(`${suite}: a replayed, reordered or reflected transport message closes the receiver`, () => {
    const replay = connect(suite, keyPairs(), prologue());
    const [first] = sealMessage(replay.clientOut, 0, utf8("{}"));
    replay.serverIn.open(first);
    assert.throws(() => replay.serverIn.open(first), TransportCloseError);

    const reorder = connect(suite, keyPairs(), prologue());
    const [a] = sealMessage(reorder.clientOut, 0, utf8("1"));
    const [b] = sealMessage(reorder.clientOut, 0, utf8("2"));
    assert.throws(() => reorder.serverIn.open(b), TransportCloseError);
    assert.throws(() => reorder.serverIn.open(a), TransportCloseError, "dead after a failure");

    const reflect = connect(suite, keyPairs(), prologue());
    const [own] = reflect.serverOut.sealJson("{}");
    assert.throws(() => reflect.serverIn.open(own), TransportCloseError);

    const tamper = connect(suite, keyPairs(), prologue());
    const [sealed] = sealMessage(tamper.clientOut, 0, utf8("{}"));
    sealed[sealed.length - 1] ^= 1;
    assert.throws(() => tamper.serverIn.open(sealed), TransportCloseError);
  });
}
