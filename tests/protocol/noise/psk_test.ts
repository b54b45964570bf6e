import assert from "node:assert/strict";
import { decodeBase64Url } from "../../../protocol/noise/base64url.ts";
import { pskId, SENTINEL_PSK, SENTINEL_PSK_ID } from "../../../protocol/noise/psk.ts";
import { hex } from "../../support/noise/hex.ts";

Deno.test("the Sentinel PSK and its psk_id are the published constants (connection.md)", () => {
  assert.equal(
    hex(SENTINEL_PSK),
    "1b5e24dbc1aed95fc2a5a338a90c05df44bd10f5ec1f4cd66cbf86272767b9d3",
  );
  assert.equal(SENTINEL_PSK_ID, "GFsV9tLaSQm9HcFWpKsgYQOr7wFTvNUtkmFwuVz3zoo");
  assert.equal(
    hex(decodeBase64Url(SENTINEL_PSK_ID)),
    "185b15f6d2da4909bd1dc156a4ab206103abef0153bcd52d926170b95cf7ce8a",
  );
});

Deno.test("psk_id of another PSK (digest §9.1, computed there, not published)", () => {
  assert.equal(pskId(new Uint8Array(32).fill(0x55)), "F3KydTWoy-3J9zfTSamtx0BqtQvx7IIgcansEYRoOHg");
});

Deno.test("psk_id refuses a PSK that is not 32 bytes", () => {
  assert.throws(() => pskId(new Uint8Array(31)), RangeError);
  assert.throws(() => pskId(new Uint8Array(33)), RangeError);
});
