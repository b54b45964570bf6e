// The test-side pairing token against the two reference vectors of Sendspin pairing.md.
import assert from "node:assert/strict";
import { decodeToken, encodeToken } from "./token.ts";

const range = (from: number, to: number) =>
  Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);
// pairing.md "Pairing PSK Flow": client_key 0x00..0x1f, pairing_psk 0xe0..0xff.
const V0 =
  "SP:0AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYP6BYPC4PSOLZXH5DU6V97M5XXO74HR6LZ7J5PW674PT6X37T6757Y";
// pairing.md "QR-code emission": code 0xe0..0xf7.
const V1 = "SP:14DQ6FY7E4XTOP9HJ5LV6Z3PO57YPD4XT6T97N5Y";

Deno.test("pairing tokens encode to pairing.md's version-0 and version-1 vectors", () => {
  const v0 = new Uint8Array(64);
  v0.set(range(0x00, 0x1f));
  v0.set(range(0xe0, 0xff), 32);
  assert.equal(encodeToken("0", v0), V0);
  assert.equal(encodeToken("1", range(0xe0, 0xf7)), V1);
  assert.equal(V1.length - 4, 39); // "39 body characters"
  assert.deepEqual(decodeToken(V0, "0"), { version: "0", payload: v0 });
  assert.deepEqual(decodeToken(V1).payload, range(0xe0, 0xf7));
});

Deno.test("pairing token decoding is lenient with operator input and strict on malformed", () => {
  const code = range(0xe0, 0xf7);
  assert.deepEqual(decodeToken(`  ${V1.toLowerCase()}\n`).payload, code);
  assert.deepEqual(decodeToken(V1.slice(3)).payload, code); // no "SP:"
  const longer = encodeToken("1", new Uint8Array([...code, 1, 2, 3]));
  assert.deepEqual(decodeToken(longer).payload, code); // reserved bytes ignored
  assert.throws(() => decodeToken("SP:7ABCD"), /version "7" is unknown/);
  assert.throws(() => decodeToken(V1, "0"), /version 1, expected 0/);
  assert.throws(() => decodeToken("SP:1" + "A".repeat(20)), /under 24/);
  assert.throws(() => decodeToken("SP:1" + "A".repeat(38) + "1"), /not a base32 character/);
  assert.throws(() => decodeToken("SP:1A"), /padding/);
});
