// Published Noise vectors (cacophony, public domain): the Noise core on its own, with the
// vectors' prologue "John Galt" and arbitrary payloads. init = server, resp = client.
import assert from "node:assert/strict";
import { Kkpsk2Initiator } from "../../../protocol/noise/kkpsk2.ts";
import { keyPairFromPrivate } from "../../../protocol/noise/keys.ts";
import type { SuiteName } from "../../../protocol/noise/suites.ts";
import { hex, unhex } from "../../support/noise/hex.ts";
import { TestResponder, type TestSuiteName } from "../../support/noise/responder.ts";

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks: string[];
  init_static: string;
  init_ephemeral: string;
  init_remote_static: string;
  resp_prologue: string;
  resp_psks: string[];
  resp_static: string;
  resp_ephemeral: string;
  resp_remote_static: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const vectors: Vector[] = JSON.parse(
  Deno.readTextFileSync(new URL("../../fixtures/noise/cacophony-kkpsk2.json", import.meta.url)),
);

Deno.test("the cacophony fixture holds exactly the two KKpsk2 SHA256 vectors", () => {
  assert.deepEqual(vectors.map((vector) => vector.protocol_name), [
    "Noise_KKpsk2_25519_AESGCM_SHA256",
    "Noise_KKpsk2_25519_ChaChaPoly_SHA256",
  ]);
  for (const vector of vectors) assert.equal(vector.messages.length, 6);
});

for (const vector of vectors) {
  const suite = vector.protocol_name.replace("Noise_KKpsk2_", "") as SuiteName & TestSuiteName;
  const [message1, message2, ...transport] = vector.messages;

  Deno.test(`cacophony ${suite}: the server initiator reproduces every initiator message and h`, () => {
    const initiator = new Kkpsk2Initiator({
      suite,
      prologue: unhex(vector.init_prologue),
      localStatic: keyPairFromPrivate(unhex(vector.init_static)),
      remoteStaticPublicKey: unhex(vector.init_remote_static),
      ephemeral: keyPairFromPrivate(unhex(vector.init_ephemeral)),
    });
    assert.equal(hex(initiator.writeMessage1(unhex(message1.payload))), message1.ciphertext);
    const result = initiator.readMessage2(unhex(message2.ciphertext), unhex(vector.init_psks[0]));
    assert.equal(hex(result.payload), message2.payload);
    assert.equal(hex(result.handshakeHash), vector.handshake_hash);
    // After the handshake: c1 (initiator to responder) first, then alternating.
    transport.forEach((message, index) => {
      if (index % 2 === 0) {
        assert.equal(hex(result.send.encrypt(unhex(message.payload))), message.ciphertext);
      } else {
        assert.equal(hex(result.receive.decrypt(unhex(message.ciphertext))), message.payload);
      }
    });
  });

  Deno.test(`cacophony ${suite}: the test responder reproduces every responder message and h`, () => {
    const responder = new TestResponder({
      suite,
      prologue: unhex(vector.resp_prologue),
      staticPrivateKey: unhex(vector.resp_static),
      remoteStaticPublicKey: unhex(vector.resp_remote_static),
      ephemeralPrivateKey: unhex(vector.resp_ephemeral),
    });
    assert.equal(hex(responder.readMessage1(unhex(message1.ciphertext))), message1.payload);
    const written = responder.writeMessage2(unhex(message2.payload), unhex(vector.resp_psks[0]));
    assert.equal(hex(written), message2.ciphertext);
    assert.equal(hex(responder.handshakeHash), vector.handshake_hash);
    transport.forEach((message, index) => {
      if (index % 2 === 0) {
        assert.equal(hex(responder.receive!.decrypt(unhex(message.ciphertext))), message.payload);
      } else {
        assert.equal(hex(responder.send!.encrypt(unhex(message.payload))), message.ciphertext);
      }
    });
  });
}
