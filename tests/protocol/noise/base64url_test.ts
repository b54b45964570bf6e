import assert from "node:assert/strict";
import { decodeBase64Url, encodeBase64Url } from "../../../protocol/noise/base64url.ts";

Deno.test("base64url round-trips every length without padding", () => {
  for (let length = 0; length <= 40; length++) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff);
    const text = encodeBase64Url(bytes);
    assert.doesNotMatch(text, /[=+/]/);
    assert.equal(text.length, Math.ceil((length * 8) / 6));
    assert.deepEqual(decodeBase64Url(text), bytes);
  }
  assert.equal(encodeBase64Url(Uint8Array.of(0xfb, 0xff)), "-_8");
});

Deno.test("base64url decode is strict: padding, other alphabets, impossible lengths, stray bits", () => {
  const bad = ["AA==", "AA=", "+A", "/A", "AA AA", "AA\n", "A", "AAAAA", "AB", "AAB", "é"];
  for (const text of bad) {
    assert.throws(
      () => decodeBase64Url(text),
      (e) => e instanceof TypeError || e instanceof RangeError,
      text,
    );
  }
});

Deno.test("base64url decode with byteLength rejects any other length (43 chars = 32 bytes)", () => {
  const id = "pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk";
  assert.equal(decodeBase64Url(id, { byteLength: 32 }).byteLength, 32);
  assert.throws(() => decodeBase64Url(id.slice(0, 42), { byteLength: 32 }), RangeError);
  assert.throws(() => decodeBase64Url(`${id}AA`, { byteLength: 32 }), RangeError);
  assert.throws(() => decodeBase64Url("", { byteLength: 32 }), RangeError);
});
