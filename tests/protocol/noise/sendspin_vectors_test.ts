// Digest §9.1 vectors: see sendspin_vectors.ts, computed by an independent implementation,
// not published. They pin the Sendspin framing around the Noise core: prologue from the init
// texts, psk_id payload, base64url handshake data, first transport messages, the fallback.
import assert from "node:assert/strict";
import { encodeBase64Url } from "../../../protocol/noise/base64url.ts";
import { HandshakeError, Kkpsk2Initiator } from "../../../protocol/noise/kkpsk2.ts";
import { keyPairFromPrivate } from "../../../protocol/noise/keys.ts";
import { SENTINEL_PSK, SENTINEL_PSK_ID } from "../../../protocol/noise/psk.ts";
import { TransportReceiver, TransportSender } from "../../../protocol/noise/transport.ts";
import { hex, unhex, utf8 } from "../../support/noise/hex.ts";
import { joinBytes, TestResponder } from "../../support/noise/responder.ts";
import {
  CLIENT_HELLO_PLAINTEXT_HEX,
  KEYS,
  LONG_TERM_PSK_HEX,
  LONG_TERM_PSK_ID,
  REHANDSHAKE,
  SERVER_HELLO_PLAINTEXT_HEX,
  SERVER_INIT_TEXT,
  VECTORS,
} from "./sendspin_vectors.ts";

const serverStatic = keyPairFromPrivate(unhex(KEYS.serverStaticPrivHex));
const clientStaticPub = unhex(KEYS.clientStaticPubHex);
const handshakeText = (data: Uint8Array) =>
  JSON.stringify({ type: "noise/handshake", payload: { data: encodeBase64Url(data) } });
const pskOf = (name: "sentinel" | "long-term") =>
  name === "sentinel" ? SENTINEL_PSK : unhex(LONG_TERM_PSK_HEX);

Deno.test("vector keys: public keys and base64url ids follow from the private keys", () => {
  assert.equal(hex(serverStatic.publicKey), KEYS.serverStaticPubHex);
  assert.equal(encodeBase64Url(serverStatic.publicKey), KEYS.serverId);
  assert.equal(
    hex(keyPairFromPrivate(unhex(KEYS.clientStaticPrivHex)).publicKey),
    KEYS.clientStaticPubHex,
  );
  assert.equal(encodeBase64Url(clientStaticPub), KEYS.clientId);
});

for (const [name, vector] of Object.entries(VECTORS)) {
  const prologue = joinBytes(utf8(vector.clientInitText), utf8(SERVER_INIT_TEXT));
  const referencedPsk = pskOf(vector.referencedPsk);

  Deno.test(`vector ${name} (${vector.suite}, ${vector.referencedPsk} PSK): the server reproduces msg 1, h and the first transport messages`, () => {
    const initiator = new Kkpsk2Initiator({
      suite: vector.suite,
      prologue,
      localStatic: serverStatic,
      remoteStaticPublicKey: clientStaticPub,
      ephemeral: keyPairFromPrivate(unhex(KEYS.serverEphemeralPrivHex)),
    });
    const message1 = initiator.writeMessage1(utf8(vector.msg1Payload));
    assert.equal(hex(message1), vector.msg1Hex);
    assert.equal(handshakeText(message1), vector.noiseHandshake1Text);
    assert.equal(handshakeText(unhex(vector.msg2Hex)), vector.noiseHandshake2Text);

    const message2 = unhex(vector.msg2Hex);
    if (vector.referencedPsk !== "sentinel") {
      // The Sentinel fallback: fails under the referenced PSK, then the same msg 2 verifies
      // under the Sentinel from the state saved after msg 1.
      assert.throws(() => initiator.readMessage2(message2, referencedPsk), HandshakeError);
    }
    const result = initiator.readMessage2(message2, SENTINEL_PSK);
    assert.equal(new TextDecoder().decode(result.payload), "{}");
    assert.equal(hex(result.handshakeHash), vector.handshakeHashHex);

    const serverHello = unhex(SERVER_HELLO_PLAINTEXT_HEX);
    const sealed = new TransportSender(result.send).seal(serverHello[0], serverHello.subarray(1));
    assert.deepEqual(sealed.map(hex), [vector.serverHelloCiphertextHex]);
    const opened = new TransportReceiver(result.receive).open(
      unhex(vector.clientHelloCiphertextHex),
    );
    assert.ok(opened);
    assert.equal(
      hex(joinBytes(Uint8Array.of(opened.type), opened.body)),
      CLIENT_HELLO_PLAINTEXT_HEX,
    );
  });

  Deno.test(`vector ${name} (${vector.suite}): the test client reproduces msg 2 and its first transport message`, () => {
    const responder = new TestResponder({
      suite: vector.suite,
      prologue,
      staticPrivateKey: unhex(KEYS.clientStaticPrivHex),
      remoteStaticPublicKey: serverStatic.publicKey,
      ephemeralPrivateKey: unhex(KEYS.clientEphemeralPrivHex),
    });
    const payload = JSON.parse(
      new TextDecoder().decode(responder.readMessage1(unhex(vector.msg1Hex))),
    );
    assert.equal(JSON.stringify(payload), vector.msg1Payload);
    // The client holds only the Sentinel: on a miss it answers under the Sentinel (fallback).
    assert.equal(payload.psk_id === SENTINEL_PSK_ID, vector.referencedPsk === "sentinel");
    assert.equal(hex(responder.writeMessage2(utf8("{}"), SENTINEL_PSK)), vector.msg2Hex);
    assert.equal(hex(responder.handshakeHash), vector.handshakeHashHex);
    assert.equal(
      hex(responder.receive!.decrypt(unhex(vector.serverHelloCiphertextHex))),
      SERVER_HELLO_PLAINTEXT_HEX,
    );
    assert.equal(
      hex(responder.send!.encrypt(unhex(CLIENT_HELLO_PLAINTEXT_HEX))),
      vector.clientHelloCiphertextHex,
    );
  });
}

Deno.test("vector C: after the fallback the keys equal A's, so its transport ciphertexts do", () => {
  assert.equal(VECTORS.C.serverHelloCiphertextHex, VECTORS.A.serverHelloCiphertextHex);
  assert.equal(VECTORS.C.clientHelloCiphertextHex, VECTORS.A.clientHelloCiphertextHex);
  assert.notEqual(VECTORS.C.handshakeHashHex, VECTORS.A.handshakeHashHex); // h covers msg 1
  assert.equal(JSON.parse(VECTORS.C.msg1Payload).psk_id, LONG_TERM_PSK_ID);
});

Deno.test("vector D: a re-handshake after A (prologue = A's h) to the long-term PSK", () => {
  assert.equal(REHANDSHAKE.prologueHex, VECTORS.A.handshakeHashHex);
  const initiator = new Kkpsk2Initiator({
    suite: "25519_ChaChaPoly_SHA256",
    prologue: unhex(REHANDSHAKE.prologueHex),
    localStatic: serverStatic,
    remoteStaticPublicKey: clientStaticPub,
    ephemeral: keyPairFromPrivate(unhex(REHANDSHAKE.serverEphemeralPrivHex)),
  });
  assert.equal(hex(initiator.writeMessage1(utf8(REHANDSHAKE.msg1Payload))), REHANDSHAKE.msg1Hex);
  const result = initiator.readMessage2(unhex(REHANDSHAKE.msg2Hex), unhex(LONG_TERM_PSK_HEX));
  assert.equal(hex(result.handshakeHash), REHANDSHAKE.handshakeHashHex);

  const responder = new TestResponder({
    suite: "25519_ChaChaPoly_SHA256",
    prologue: unhex(REHANDSHAKE.prologueHex),
    staticPrivateKey: unhex(KEYS.clientStaticPrivHex),
    remoteStaticPublicKey: serverStatic.publicKey,
    ephemeralPrivateKey: unhex(REHANDSHAKE.clientEphemeralPrivHex),
  });
  responder.readMessage1(unhex(REHANDSHAKE.msg1Hex));
  assert.equal(
    hex(responder.writeMessage2(utf8("{}"), unhex(LONG_TERM_PSK_HEX))),
    REHANDSHAKE.msg2Hex,
  );
});
