// The server's CPace against the published draft-21 vectors (see cpace_vectors.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  calculateGenerator,
  CPACE_DSI,
  CpaceInitiator,
  generatorString,
  lvCat,
  prependLen,
  scalarMultVfy,
  tagsEqual,
  transcriptIr,
} from "../../../protocol/pake/cpace.ts";
import {
  decodeUCoordinate,
  encodeUCoordinate,
  mapToCurveElligator2,
  P,
} from "../../../protocol/pake/elligator2.ts";
import { hex, unhex, utf8 } from "../../support/noise/hex.ts";
import {
  LOW_ORDER,
  LV_CAT,
  PREPEND_LEN,
  TRANSCRIPT_IR,
  X25519_SHA512 as V,
} from "./cpace_vectors.ts";

const range = (length: number) => Uint8Array.from({ length }, (_, i) => i);

Deno.test("prepend_len and lv_cat give the draft's string vectors", () => {
  assert.equal(hex(prependLen(new Uint8Array(0))), PREPEND_LEN.empty);
  assert.equal(hex(prependLen(utf8("1234"))), PREPEND_LEN.text1234);
  assert.equal(hex(prependLen(range(127))), PREPEND_LEN.range127);
  assert.equal(hex(prependLen(range(128))), PREPEND_LEN.range128);
  assert.equal(hex(lvCat(utf8("1234"), utf8("5"), new Uint8Array(0), utf8("678"))), LV_CAT);
});

Deno.test("prepend_len encodes longer lengths in LEB128, 7 bits per byte, low bits first", () => {
  assert.equal(hex(prependLen(new Uint8Array(300)).subarray(0, 2)), "ac02");
  assert.equal(hex(prependLen(new Uint8Array(16384)).subarray(0, 3)), "808001");
  assert.equal(prependLen(new Uint8Array(16384)).byteLength, 16387);
});

Deno.test("transcript_ir gives the draft's vectors", () => {
  for (const [[ya, ada, yb, adb], expected] of TRANSCRIPT_IR) {
    assert.equal(hex(transcriptIr(utf8(ya), utf8(ada), utf8(yb), utf8(adb))), expected);
  }
});

Deno.test("X25519 vector: generator string, its hash, the decoded u and the generator g", () => {
  const genStr = generatorString(CPACE_DSI, utf8(V.prs), unhex(V.ci), unhex(V.sid));
  assert.equal(hex(genStr), V.generatorString);
  // The zero padding: 1 (its length byte) + 109 zeros after lv(DSI) and lv(PRS).
  assert.equal(genStr[9 + 9], V.zeroPadBytes);
  const hash = new Uint8Array(createHash("sha512").update(genStr).digest()).subarray(0, 32);
  assert.equal(hex(hash), V.generatorStringHash);
  const u = decodeUCoordinate(hash);
  assert.equal(hex(encodeUCoordinate(u)), V.decodedU);
  assert.equal(hex(encodeUCoordinate(mapToCurveElligator2(u))), V.g);
  assert.equal(hex(calculateGenerator(utf8(V.prs), unhex(V.ci), unhex(V.sid))), V.g);
});

Deno.test("X25519 vector: Ya from ya and Yb from yb, and K the same both ways", () => {
  const g = unhex(V.g);
  assert.equal(hex(scalarMultVfy(unhex(V.ya), g)!), V.Ya);
  assert.equal(hex(scalarMultVfy(unhex(V.yb), g)!), V.Yb);
  assert.equal(hex(scalarMultVfy(unhex(V.ya), unhex(V.Yb))!), V.K);
  assert.equal(hex(scalarMultVfy(unhex(V.yb), unhex(V.Ya))!), V.K);
});

Deno.test("X25519 vector: transcript_ir, the ISK input and ISK_IR", () => {
  const transcript = transcriptIr(unhex(V.Ya), utf8(V.ada), unhex(V.Yb), utf8(V.adb));
  assert.equal(hex(transcript), V.transcriptIr);
  assert.equal(hex(utf8("CPace255_ISK")), V.iskDsi);
  const iskInput = new Uint8Array([
    ...lvCat(unhex(V.iskDsi), unhex(V.sid), unhex(V.K)),
    ...transcript,
  ]);
  assert.equal(hex(iskInput), V.iskInput);
  assert.equal(hex(createHash("sha512").update(iskInput).digest()), V.iskIr);
});

Deno.test("CpaceInitiator with the vector's ya sends Ya and derives ISK_IR from Yb", () => {
  const initiator = new CpaceInitiator({
    prs: utf8(V.prs),
    ci: unhex(V.ci),
    sid: unhex(V.sid),
    ad: utf8(V.ada),
    scalar: unhex(V.ya),
  });
  assert.equal(hex(initiator.share), V.Ya);
  const result = initiator.finish(unhex(V.Yb), utf8(V.adb));
  assert.ok(result);
  assert.equal(hex(result.isk), V.iskIr);
  assert.equal(result.ownTag.byteLength, 64);
  assert.equal(result.peerTag.byteLength, 64);
  assert.ok(!tagsEqual(result.ownTag, result.peerTag));
});

Deno.test("scalar_mult_vfy gives q0..qb for u0..ub: u0-u5 and u7 abort, the rest match", () => {
  const s = unhex(LOW_ORDER.s);
  for (const [name, u, q] of LOW_ORDER.cases) {
    const result = scalarMultVfy(s, unhex(u));
    if (q === "abort") assert.equal(result, undefined, name);
    else assert.equal(result && hex(result), q, name);
  }
});

Deno.test("CpaceInitiator.finish refuses a low-order share and a share of the wrong length", () => {
  const initiator = new CpaceInitiator({ prs: utf8("123456"), sid: utf8("sid"), ad: utf8("a") });
  for (const [name, u, q] of LOW_ORDER.cases) {
    if (q === "abort") assert.equal(initiator.finish(unhex(u), utf8("b")), undefined, name);
    else assert.ok(initiator.finish(unhex(u), utf8("b")), name);
  }
  assert.equal(initiator.finish(new Uint8Array(31).fill(9), utf8("b")), undefined);
  assert.equal(initiator.finish(new Uint8Array(33).fill(9), utf8("b")), undefined);
  assert.throws(
    () => new CpaceInitiator({ prs: utf8("1"), sid: utf8("s"), ad: utf8("a"), scalar: range(31) }),
    RangeError,
  );
});

Deno.test("u-coordinates: decoding clears bit 255, encoding reduces modulo p", () => {
  const top = new Uint8Array(32).fill(0xff);
  assert.equal(decodeUCoordinate(top), 2n ** 255n - 1n);
  assert.equal(hex(encodeUCoordinate(P)), "00".repeat(32));
  assert.equal(hex(encodeUCoordinate(P + 1n)), "01" + "00".repeat(31));
  assert.equal(hex(encodeUCoordinate(-1n)), hex(encodeUCoordinate(P - 1n)));
  assert.throws(() => decodeUCoordinate(new Uint8Array(31)), RangeError);
});

Deno.test("Elligator 2 output is always a curve point's u (u^3 + A u^2 + u is a square)", () => {
  const A = 486662n;
  const isSquare = (x: bigint) => {
    let result = 1n, base = x % P, e = (P - 1n) / 2n;
    for (; e > 0n; e >>= 1n, base = (base * base) % P) if (e & 1n) result = (result * base) % P;
    return result !== P - 1n;
  };
  const inputs = [0n, 1n, P - 1n, 2n ** 255n - 1n];
  for (let i = 0; i < 40; i++) inputs.push(decodeUCoordinate(crypto.getRandomValues(range(32))));
  for (const r of inputs) {
    const u = mapToCurveElligator2(r);
    assert.ok(u >= 0n && u < P);
    assert.ok(isSquare((u * u * u + A * u * u + u) % P), `r = ${r}`);
  }
});

Deno.test("tagsEqual compares whole tags and refuses different lengths", () => {
  const tag = range(64);
  assert.ok(tagsEqual(tag, range(64)));
  const last = range(64);
  last[63] ^= 1;
  assert.ok(!tagsEqual(tag, last));
  assert.ok(!tagsEqual(tag, range(63)));
});
