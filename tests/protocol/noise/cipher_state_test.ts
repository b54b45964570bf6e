import assert from "node:assert/strict";
import { CipherState, RESERVED_NONCE } from "../../../protocol/noise/cipher_state.ts";
import { AeadOpenError, SUITE_NAMES, suiteByName } from "../../../protocol/noise/suites.ts";
import { TestCipher } from "../../support/noise/responder.ts";
import { utf8 } from "../../support/noise/hex.ts";

const key = Uint8Array.from({ length: 32 }, (_, i) => i);

for (const name of SUITE_NAMES) {
  const suite = suiteByName(name)!;

  Deno.test(`${name}: the nonce layout matches the test side's at a counter using all 8 bytes`, () => {
    const nonce = 0x0102030405060708n;
    const server = new CipherState(suite, key);
    server.setNonce(nonce);
    const test = new TestCipher(name, key);
    test.n = nonce;
    const ad = utf8("associated");
    const ciphertext = server.encryptWithAd(ad, utf8("counter"));
    assert.deepEqual(ciphertext, test.encrypt(utf8("counter"), ad));
    assert.equal(server.nonce, nonce + 1n);
    const reader = new CipherState(suite, key);
    reader.setNonce(nonce);
    assert.deepEqual(reader.decryptWithAd(ad, ciphertext), utf8("counter"));
  });

  Deno.test(`${name}: parts encrypt as their concatenation; a failed open keeps the counter`, () => {
    const writer = new CipherState(suite, key);
    const reader = new CipherState(suite, key);
    const sealed = writer.encrypt([utf8("ab"), new Uint8Array(0), utf8("cd")]);
    assert.deepEqual(new CipherState(suite, key).encrypt(utf8("abcd")), sealed);
    const tampered = sealed.slice();
    tampered[0] ^= 1;
    assert.throws(() => reader.decrypt(tampered), AeadOpenError);
    assert.throws(() => reader.decrypt(sealed.subarray(0, 15)), AeadOpenError);
    assert.equal(reader.nonce, 0n);
    assert.deepEqual(reader.decrypt(sealed), utf8("abcd"));
    assert.throws(() => reader.decrypt(sealed), AeadOpenError); // replay: nonce 1 now
  });

  Deno.test(`${name}: nonce 2^64-1 is reserved`, () => {
    const cipher = new CipherState(suite, key);
    cipher.setNonce(RESERVED_NONCE - 1n);
    cipher.encrypt(utf8("last"));
    assert.throws(() => cipher.encrypt(utf8("one more")), RangeError);
    assert.throws(() => cipher.decrypt(new Uint8Array(16)), RangeError);
  });
}

Deno.test("a CipherState without a key passes plaintext through (handshake start)", () => {
  const cipher = new CipherState(suiteByName("25519_AESGCM_SHA256")!);
  assert.equal(cipher.hasKey(), false);
  assert.deepEqual(cipher.encryptWithAd(utf8("h"), [utf8("a"), utf8("b")]), utf8("ab"));
  assert.deepEqual(cipher.decryptWithAd(utf8("h"), utf8("ab")), utf8("ab"));
  assert.throws(
    () => new CipherState(suiteByName("25519_AESGCM_SHA256")!, new Uint8Array(16)),
    RangeError,
  );
  assert.equal(suiteByName("25519_ChaChaPoly_BLAKE2s"), undefined);
  assert.equal(suiteByName("toString"), undefined);
});
