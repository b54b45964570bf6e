// The server's CPace initiator against an independent responder written here from the draft
// with @noble (x25519, RFC 9380's Elligator 2, SHA-512, HMAC): two implementations that must
// agree on ISK and both confirmation tags, with Sendspin's inputs (CI empty, ADa "server",
// ADb "client", sid from pakeSid).
import assert from "node:assert/strict";
import { invert } from "@noble/curves/abstract/modular.js";
import { _map_to_curve_elligator2_curve25519, x25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { CpaceInitiator, tagsEqual } from "../../../protocol/pake/cpace.ts";
import {
  decodeUCoordinate,
  encodeUCoordinate,
  mapToCurveElligator2,
} from "../../../protocol/pake/elligator2.ts";
import { pairingPrs, pakeSid } from "../../../protocol/pairing/binding.ts";
import { hex, unhex, utf8 } from "../../support/noise/hex.ts";
import { X25519_SHA512 as V } from "./cpace_vectors.ts";

const P = 2n ** 255n - 19n;
const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));
const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((part) => [...part]));

// The test side's own string helpers, from the draft's reference code.
function leb128(length: number): number[] {
  const out: number[] = [];
  for (;;) {
    out.push(length < 128 ? length : (length & 0x7f) + 0x80);
    length = Math.floor(length / 128);
    if (length === 0) return out;
  }
}
const lv = (...parts: Uint8Array[]) =>
  cat(...parts.map((part) => cat(Uint8Array.from(leb128(part.length)), part)));

/** Noble's Elligator 2: x = xMn / xMd, encoded little-endian. */
function nobleMap(u: bigint): Uint8Array {
  const { xMn, xMd } = _map_to_curve_elligator2_curve25519(u % P);
  return numberToBytesLE((xMn * invert(xMd, P)) % P, 32);
}

function nobleGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const dsi = utf8("CPace255");
  const zeroPad = Math.max(
    0,
    128 - 1 - (leb128(prs.length).length + prs.length) - (1 + dsi.length),
  );
  const hash = sha512(lv(dsi, prs, new Uint8Array(zeroPad), ci, sid)).slice(0, 32);
  hash[31] &= 0x7f;
  return nobleMap(bytesToNumberLE(hash));
}

/** Party B: its share, and (given Ya and ADa) its ISK, its tag Tb and the tag Ta it expects. */
class NobleResponder {
  readonly share: Uint8Array;
  readonly #scalar = random(32);
  constructor(readonly prs: Uint8Array, readonly sid: Uint8Array, readonly ad: Uint8Array) {
    this.share = x25519.scalarMult(this.#scalar, nobleGenerator(prs, new Uint8Array(0), sid));
  }
  respond(peerShare: Uint8Array, peerAd: Uint8Array) {
    const k = x25519.scalarMult(this.#scalar, peerShare);
    const transcript = cat(lv(peerShare, peerAd), lv(this.share, this.ad));
    const isk = sha512(cat(lv(utf8("CPace255_ISK"), this.sid, k), transcript));
    const macKey = sha512(cat(utf8("CPaceMac"), this.sid, isk));
    return {
      isk,
      ownTag: hmac(sha512, macKey, lv(this.share, this.ad)),
      peerTag: hmac(sha512, macKey, lv(peerShare, peerAd)),
    };
  }
}

const SERVER = utf8("server");
const CLIENT = utf8("client");

function run(serverPrs: Uint8Array, clientPrs: Uint8Array, sid = pakeSid(random(32), 1, 1)) {
  const server = new CpaceInitiator({ prs: serverPrs, sid, ad: SERVER });
  const client = new NobleResponder(clientPrs, sid, CLIENT);
  const clientResult = client.respond(server.share, SERVER);
  const serverResult = server.finish(client.share, CLIENT);
  assert.ok(serverResult);
  return { server: serverResult, client: clientResult };
}

Deno.test("the test side's generator reproduces the draft's g (so it is a fair referee)", () => {
  assert.equal(hex(nobleGenerator(utf8(V.prs), unhex(V.ci), unhex(V.sid))), V.g);
});

Deno.test("Elligator 2: ours and noble's agree, edge inputs and random hashes", () => {
  const inputs = [0n, 1n, 2n, P - 1n, P, 2n ** 255n - 1n];
  for (let i = 0; i < 200; i++) inputs.push(decodeUCoordinate(random(32)));
  for (const u of inputs) {
    assert.equal(hex(encodeUCoordinate(mapToCurveElligator2(u))), hex(nobleMap(u)), `u = ${u}`);
  }
});

Deno.test("a noble responder and the server agree on ISK and both tags (digits codes)", () => {
  for (let i = 0; i < 8; i++) {
    const code = pairingPrs(String(Math.floor(Math.random() * 1e6)).padStart(6, "0"));
    const { server, client } = run(code, code);
    assert.equal(hex(server.isk), hex(client.isk));
    assert.ok(tagsEqual(server.ownTag, client.peerTag), "client accepts server_kc");
    assert.ok(tagsEqual(server.peerTag, client.ownTag), "server accepts client_kc");
  }
});

Deno.test("a noble responder and the server agree with a 24-byte qr_code PRS and later rounds", () => {
  const code = pairingPrs(random(24));
  const { server, client } = run(code, code, pakeSid(random(32), 7, 20));
  assert.equal(hex(server.isk), hex(client.isk));
  assert.ok(tagsEqual(server.ownTag, client.peerTag));
  assert.ok(tagsEqual(server.peerTag, client.ownTag));
});

Deno.test("a wrong pairing code gives mismatching tags and keys on both sides", () => {
  const { server, client } = run(pairingPrs("123456"), pairingPrs("123457"));
  assert.notEqual(hex(server.isk), hex(client.isk));
  assert.ok(!tagsEqual(server.ownTag, client.peerTag), "client rejects server_kc");
  assert.ok(!tagsEqual(server.peerTag, client.ownTag), "server rejects client_kc");
});

Deno.test("the same code under different sids (a relayed handshake) gives mismatching tags", () => {
  const code = pairingPrs("12345678");
  const h = random(32);
  const server = new CpaceInitiator({ prs: code, sid: pakeSid(h, 1, 1), ad: SERVER });
  const client = new NobleResponder(code, pakeSid(random(32), 1, 1), CLIENT);
  const serverResult = server.finish(client.share, CLIENT);
  assert.ok(serverResult);
  const clientResult = client.respond(server.share, SERVER);
  assert.ok(!tagsEqual(serverResult.ownTag, clientResult.peerTag));
  assert.ok(!tagsEqual(serverResult.peerTag, clientResult.ownTag));
});

Deno.test("each initiator draws a fresh scalar: two runs with the same inputs differ", () => {
  const options = { prs: pairingPrs("123456"), sid: pakeSid(random(32), 1, 1), ad: SERVER };
  assert.notEqual(hex(new CpaceInitiator(options).share), hex(new CpaceInitiator(options).share));
});
