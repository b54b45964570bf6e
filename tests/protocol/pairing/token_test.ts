import assert from "node:assert/strict";
import {
  decodePairingToken,
  encodePairingToken,
  PairingTokenError,
} from "../../../protocol/pairing/token.ts";
import { hex } from "../../support/noise/hex.ts";

const bytes = (from: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => (from + i) & 0xff);

// pairing.md "Pairing PSK Flow" and "Dynamic Pairing Code Flow" reference vectors.
const V0_TOKEN =
  "SP:0AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYP6BYPC4PSOLZXH5DU6V97M5XXO74HR6LZ7J5PW674PT6X37T6757Y";
const V0_CLIENT_KEY = bytes(0x00, 32);
const V0_PAIRING_PSK = bytes(0xe0, 32);
const V1_TOKEN = "SP:14DQ6FY7E4XTOP9HJ5LV6Z3PO57YPD4XT6T97N5Y";
const V1_CODE = bytes(0xe0, 24);

Deno.test("pairing token v0: the spec's vector both ways", () => {
  const payload = new Uint8Array([...V0_CLIENT_KEY, ...V0_PAIRING_PSK]);
  assert.equal(encodePairingToken("0", payload), V0_TOKEN);
  const token = decodePairingToken(V0_TOKEN, "0");
  assert.equal(token.version, "0");
  assert.equal(hex(token.clientKey), hex(V0_CLIENT_KEY));
  assert.equal(hex(token.pairingPsk), hex(V0_PAIRING_PSK));
});

Deno.test("pairing token v1: the spec's vector both ways, 39 body characters", () => {
  assert.equal(encodePairingToken("1", V1_CODE), V1_TOKEN);
  assert.equal(V1_TOKEN.length, "SP:1".length + 39);
  const token = decodePairingToken(V1_TOKEN);
  assert.ok(token.version === "1");
  assert.equal(hex(token.code), hex(V1_CODE));
});

Deno.test("pairing tokens use only the QR alphanumeric set and never a 2", () => {
  for (let i = 0; i < 50; i++) {
    const text = encodePairingToken("0", crypto.getRandomValues(new Uint8Array(64)));
    assert.match(text, /^SP:0[A-Z3-79]+$/);
  }
});

Deno.test("pairing token decoding is lenient: case, surrounding whitespace, no SP: prefix", () => {
  for (
    const input of [
      V1_TOKEN.toLowerCase(),
      `  ${V1_TOKEN}\n`,
      V1_TOKEN.slice(3),
      ` ${V1_TOKEN.slice(3).toLowerCase()}\t`,
      "sP:" + V1_TOKEN.slice(3),
    ]
  ) {
    assert.equal(hex(decodePairingToken(input, "1").code), hex(V1_CODE), input);
  }
  // A "2" the encoder would have written as "9" means the same bits.
  assert.equal(hex(decodePairingToken(V1_TOKEN.replaceAll("9", "2"), "1").code), hex(V1_CODE));
});

Deno.test("pairing token payload bytes beyond the version's are ignored", () => {
  const longer = new Uint8Array([...V1_CODE, 1, 2, 3, 4, 5]);
  assert.equal(hex(decodePairingToken(encodePairingToken("1", longer), "1").code), hex(V1_CODE));
  const v0 = new Uint8Array([...V0_CLIENT_KEY, ...V0_PAIRING_PSK, 0xaa]);
  const token = decodePairingToken(encodePairingToken("0", v0), "0");
  assert.equal(hex(token.pairingPsk), hex(V0_PAIRING_PSK));
});

function rejects(input: string, expect: RegExp, version?: "0" | "1") {
  assert.throws(
    () => decodePairingToken(input, version),
    (error) => error instanceof PairingTokenError && expect.test(error.message),
    JSON.stringify(input),
  );
}

Deno.test("pairing token decoding rejects malformed input with a sentence for the operator", () => {
  rejects("", /empty/);
  rejects("   ", /empty/);
  rejects("SP:", /empty/);
  rejects("SP:2" + V1_TOKEN.slice(4), /version "2" is not 0 or 1/);
  rejects("XP:1" + V1_TOKEN.slice(4), /version "X"/);
  rejects(V1_TOKEN.slice(0, 10) + "1" + V1_TOKEN.slice(11), /"1" is not one of them/);
  rejects(V1_TOKEN.slice(0, 10) + "=" + V1_TOKEN.slice(11), /"=" is not one of them/);
  rejects(V1_TOKEN + "=", /"=" is not one of them/);
  rejects(V1_TOKEN.slice(0, 10) + " " + V1_TOKEN.slice(10), /" " is not one of them/);
  // 38 body characters: no base32 encoding has a 6-character tail.
  rejects(V1_TOKEN.slice(0, -1), /length or last character/);
  // The last character's unused low bits must be zero ("Y" ends ...000, "Z" does not).
  rejects(V1_TOKEN.slice(0, -1) + "Z", /length or last character/);
});

Deno.test("pairing token decoding rejects a payload shorter than its version defines", () => {
  rejects(encodePairingToken("1", V1_CODE).slice(0, -7), /too short.*24 bytes, this one 20/);
  const short = tokenOf("0", bytes(0, 63));
  rejects(short, /too short.*64 bytes, this one 63/);
  rejects("SP:0", /too short.*this one 0/);
});

Deno.test("an interface expecting one version rejects the other", () => {
  rejects(V1_TOKEN, /expected a version-0 token.*got a version-1 token/, "0");
  rejects(V0_TOKEN, /expected a version-1 token.*got a version-0 token/, "1");
  assert.equal(decodePairingToken(V0_TOKEN).version, "0");
});

Deno.test("encoding refuses a payload shorter than the version defines", () => {
  assert.throws(() => encodePairingToken("0", bytes(0, 63)), RangeError);
  assert.throws(() => encodePairingToken("1", bytes(0, 23)), RangeError);
});

/** A token of `version` carrying any payload (of 24 bytes or more), even one too short for it. */
function tokenOf(version: "0" | "1", payload: Uint8Array): string {
  // Encode as version 1 (any payload of >= 24 bytes) and relabel: the body is version-neutral.
  return `SP:${version}` + encodePairingToken("1", payload).slice(4);
}
