import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import {
  dh,
  generateKeyPair,
  keyPairFromPrivate,
  publicKeyFromPrivate,
} from "../../../protocol/noise/keys.ts";
import { hex, unhex } from "../../support/noise/hex.ts";

Deno.test("X25519 public key from a private key matches RFC 7748 §6.1 (Alice)", () => {
  const alicePrivate = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  assert.equal(
    hex(publicKeyFromPrivate(alicePrivate)),
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  );
  const bobPublic = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  assert.equal(
    hex(dh(alicePrivate, bobPublic)),
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
  );
});

Deno.test("generated keypairs are consistent, distinct, and agree with @noble's X25519", () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  assert.equal(a.privateKey.byteLength, 32);
  assert.deepEqual(publicKeyFromPrivate(a.privateKey), a.publicKey);
  assert.notDeepEqual(a.privateKey, b.privateKey);
  assert.deepEqual(dh(a.privateKey, b.publicKey), dh(b.privateKey, a.publicKey));
  assert.deepEqual(
    dh(a.privateKey, b.publicKey),
    x25519.getSharedSecret(a.privateKey, b.publicKey),
  );
  assert.deepEqual(keyPairFromPrivate(a.privateKey), a);
});

Deno.test("DH refuses low-order public keys (all-zero output) and wrong lengths", () => {
  const { privateKey } = generateKeyPair();
  const lowOrder = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  ];
  for (const key of lowOrder) assert.throws(() => dh(privateKey, unhex(key)), RangeError, key);
  assert.throws(() => dh(privateKey, new Uint8Array(31)), RangeError);
  assert.throws(() => dh(new Uint8Array(33), generateKeyPair().publicKey), RangeError);
});
