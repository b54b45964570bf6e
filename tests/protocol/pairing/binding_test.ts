// The binding values checked against pairing.md's formulas computed here independently with
// @noble (SHA-256, ChaCha20-Poly1305, AES-256-GCM).
import assert from "node:assert/strict";
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  commitB,
  derivePairingCode,
  normalizeCodeInput,
  PairingCodeError,
  pairingPrs,
  pakeSid,
  parseCodeInput,
  unwrap,
  wrap,
  wrapKey,
} from "../../../protocol/pairing/binding.ts";
import { SUITE_NAMES } from "../../../protocol/noise/suites.ts";
import { hex, unhex, utf8 } from "../../support/noise/hex.ts";

const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));
const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((part) => [...part]));
const h = random(32);
const nonceA = random(32);
const nonceB = random(32);

Deno.test("commit_B is SHA-256 of the label and nonce_B", () => {
  assert.equal(hex(commitB(nonceB)), hex(sha256(cat(utf8("sendspin-pair-commit-v1"), nonceB))));
  assert.throws(() => commitB(random(31)), RangeError);
});

Deno.test("the digits code is the derive digest as a big-endian integer modulo 10^6", () => {
  const digest = sha256(cat(utf8("sendspin-pairing-code-derive-v1"), h, nonceA, nonceB));
  const expected = (BigInt("0x" + hex(digest)) % 1_000_000n).toString().padStart(6, "0");
  const code = derivePairingCode(h, nonceA, nonceB, "digits");
  assert.equal(code, expected);
  assert.match(code, /^[0-9]{6}$/);
});

Deno.test("the qr_code code is the derive digest's first 24 bytes", () => {
  const digest = sha256(cat(utf8("sendspin-pairing-code-derive-v1"), h, nonceA, nonceB));
  assert.equal(hex(derivePairingCode(h, nonceA, nonceB, "qr_code")), hex(digest.slice(0, 24)));
});

Deno.test("a digits code below 10000 keeps its leading zeros (found by searching nonce_B)", () => {
  const fixedH = new Uint8Array(32).fill(1);
  const fixedA = new Uint8Array(32).fill(2);
  let found: { code: string; value: bigint } | undefined;
  for (let i = 0; found === undefined; i++) {
    const b = new Uint8Array(32);
    new DataView(b.buffer).setUint32(0, i);
    const digest = sha256(cat(utf8("sendspin-pairing-code-derive-v1"), fixedH, fixedA, b));
    const value = BigInt("0x" + hex(digest)) % 1_000_000n;
    if (value < 10_000n) found = { code: derivePairingCode(fixedH, fixedA, b, "digits"), value };
  }
  assert.match(found.code, /^00[0-9]{4}$/);
  assert.equal(BigInt(found.code), found.value);
});

Deno.test("the binding inputs must be 32 bytes each", () => {
  assert.throws(() => derivePairingCode(random(31), nonceA, nonceB, "digits"), RangeError);
  assert.throws(() => derivePairingCode(h, random(33), nonceB, "digits"), RangeError);
  assert.throws(() => derivePairingCode(h, nonceA, random(0), "qr_code"), RangeError);
});

Deno.test("PRS is the code's ASCII digits or its 24 raw bytes", () => {
  assert.equal(hex(pairingPrs("12345678")), "3132333435363738");
  assert.equal(hex(pairingPrs("012345")), "303132333435");
  const qr = random(24);
  assert.equal(hex(pairingPrs(qr)), hex(qr));
});

Deno.test("sid is the label, h, then pairing_index and round as big-endian uint32", () => {
  const sid = pakeSid(h, 0x01020304, 1);
  assert.equal(hex(sid), hex(cat(utf8("sendspin-pair-pake-v1"), h, unhex("0102030400000001"))));
  assert.equal(hex(pakeSid(h, 0xffffffff, 20).subarray(-8)), "ffffffff00000014");
  assert.throws(() => pakeSid(h, -1, 1), RangeError);
  assert.throws(() => pakeSid(h, 1, 2 ** 32), RangeError);
  assert.throws(() => pakeSid(h, 1.5, 1), RangeError);
  assert.throws(() => pakeSid(random(31), 1, 1), RangeError);
});

Deno.test("K_wrap is SHA-256 of the field's label, sid and ISK", () => {
  const sid = pakeSid(h, 1, 1);
  const isk = random(64);
  const expect = (label: string) => hex(sha256(cat(utf8(label), sid, isk)));
  assert.equal(hex(wrapKey("psk", sid, isk)), expect("sendspin-pair-psk-wrap-v1"));
  assert.equal(hex(wrapKey("nonce", sid, isk)), expect("sendspin-pair-nonce-wrap-v1"));
  assert.throws(() => wrapKey("psk", sid, random(32)), RangeError);
});

const ZERO_NONCE = new Uint8Array(12);
const nobleAead = {
  "25519_ChaChaPoly_SHA256": (key: Uint8Array) => chacha20poly1305(key, ZERO_NONCE),
  "25519_AESGCM_SHA256": (key: Uint8Array) => gcm(key, ZERO_NONCE),
} as const;

for (const suite of SUITE_NAMES) {
  Deno.test(`${suite}: wrap is the AEAD with a zero nonce and no AD; unwrap reverses it`, () => {
    const key = wrapKey("psk", pakeSid(h, 1, 1), random(64));
    const psk = random(32);
    const wrapped = wrap(suite, key, psk);
    assert.equal(wrapped.byteLength, 48);
    assert.equal(hex(wrapped), hex(nobleAead[suite](key).encrypt(psk)));
    assert.equal(hex(unwrap(suite, key, wrapped)!), hex(psk));
    assert.equal(hex(unwrap(suite, key, nobleAead[suite](key).encrypt(nonceB))!), hex(nonceB));
  });

  Deno.test(`${suite}: a tampered, truncated or wrongly keyed wrapping unwraps to undefined`, () => {
    const key = random(32);
    const wrapped = wrap(suite, key, random(32));
    for (const at of [0, 31, 32, 47]) {
      const tampered = wrapped.slice();
      tampered[at] ^= 0x80;
      assert.equal(unwrap(suite, key, tampered), undefined, `byte ${at}`);
    }
    assert.equal(unwrap(suite, key, wrapped.subarray(0, 47)), undefined);
    assert.equal(unwrap(suite, key, cat(wrapped, Uint8Array.of(0))), undefined);
    assert.equal(unwrap(suite, random(32), wrapped), undefined);
    assert.throws(() => wrap(suite, key, random(31)), RangeError);
  });
}

Deno.test("a value wrapped under one suite does not unwrap under the other", () => {
  const key = random(32);
  const [chacha, aes] = SUITE_NAMES;
  assert.equal(unwrap(aes, key, wrap(chacha, key, nonceB)), undefined);
  assert.equal(unwrap(chacha, key, wrap(aes, key, nonceB)), undefined);
});

Deno.test("typed codes lose their separators: spaces, hyphens and pasted dashes", () => {
  assert.equal(normalizeCodeInput("123-456"), "123456");
  assert.equal(normalizeCodeInput(" 1234 5678 "), "12345678");
  assert.equal(normalizeCodeInput("1234\u20135678"), "12345678");
  assert.equal(normalizeCodeInput("12-34-56"), "123456");
});

Deno.test("parseCodeInput wants 6 digits for a dynamic code and 8 for a static one", () => {
  assert.equal(parseCodeInput("012-345", "dynamic"), "012345");
  assert.equal(parseCodeInput("1234-5678", "static"), "12345678");
  const rejects = (text: string, kind: "dynamic" | "static", expect: RegExp) =>
    assert.throws(
      () => parseCodeInput(text, kind),
      (error) => error instanceof PairingCodeError && expect.test(error.message),
      text,
    );
  rejects("12345", "dynamic", /6 digits .*\(got 5 digits\)/);
  rejects("1234-5678", "dynamic", /got 8 digits/);
  rejects("123-456", "static", /8-digit .*\(got 6 digits\)/);
  rejects("12a-456", "dynamic", /"a" is not a digit/);
  rejects("", "static", /got 0 digits/);
  rejects("１２３４５６", "dynamic", /is not a digit/);
});
