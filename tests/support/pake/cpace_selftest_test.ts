// The test-side CPace (tests/support/pake/cpace.ts) against the published vectors of
// draft-irtf-cfrg-cpace-21, Appendix B.1 "Test vector for CPace using group X25519 and hash
// SHA-512" (and the string-utility vectors of Appendix A); values copied from the draft's text.
import assert from "node:assert/strict";
import { hex, unhex, utf8 } from "../noise/hex.ts";
import {
  calculateGenerator,
  CPaceAbort,
  cpaceKeys,
  cpaceShare,
  DSI,
  finishInitiator,
  generatorString,
  lvCat,
  prependLen,
  respond,
  scalarMultVfy,
} from "./cpace.ts";

const B1 = {
  prs: utf8("Password"),
  ci: unhex("0b415f696e69746961746f720b425f726573706f6e646572"),
  sid: unhex("7e4b4791d6a8ef019b936c79fb7f2c57"),
  generatorString: "0843506163653235350850617373776f72646d" + "00".repeat(109) +
    "180b415f696e69746961746f720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f2c57",
  g: "d04bf6d41f6a289632a2e929fa29bebd51092512a7829fdde7d314b62f05a73f",
  ada: utf8("ADa"),
  ya: unhex("21b4f4bd9e64ed355c3eb676a28ebedaf6d8f17bdc365995b319097153044080"),
  Ya: "1d13c89278cdadd826f6d8d7f887701430f8380ddc17611cdd6dc989ce0c9f32",
  adb: utf8("ADb"),
  yb: unhex("848b0779ff415f0af4ea14df9dd1d3c29ac41d836c7808896c4eba19c51ac40a"),
  Yb: "248cccf6d5cdc3646f0ad593f9e6cef4e69d4945f8372e623512ecea32185623",
  K: "5b067effbdc0b2a0e1d907b21ebb25cfedb96a852179a847c37e43ee71322c6b",
  iskIr: "6e19b875f7a561d6b3ca3dbb9ef42ac55de3e717881018204b8922b4d5e53bb2" +
    "aa82c300bea7b65d2b671da71922ddf6472301b79bc270adfa8bf413285f2263",
};

// B.1 "Test vectors for G_X25519.scalar_mult_vfy: low order points": uX -> qX for scalar s.
const LOW_ORDER_S = "af46e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449aff";
const ZERO = "00".repeat(32);
const LOW_ORDER: [string, string, boolean][] = [ // u, q, "MUST trigger the abort case"
  ["00".repeat(32), ZERO, true],
  ["01" + "00".repeat(31), ZERO, true],
  ["ec" + "ff".repeat(30) + "7f", ZERO, true],
  ["e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", ZERO, true],
  ["5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", ZERO, true],
  ["ed" + "ff".repeat(30) + "7f", ZERO, true],
  [
    "da" + "ff".repeat(31),
    "d8e2c776bbacd510d09fd9278b7edcd25fc5ae9adfba3b6e040e8d3b71b21806",
    false,
  ],
  ["ee" + "ff".repeat(30) + "7f", ZERO, true],
  [
    "db" + "ff".repeat(31),
    "c85c655ebe8be44ba9c0ffde69f2fe10194458d137f09bbff725ce58803cdb38",
    false,
  ],
  [
    "d9" + "ff".repeat(31),
    "db64dafa9b8fdd136914e61461935fe92aa372cb056314e1231bc4ec12417456",
    false,
  ],
  [
    "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    "e062dcd5376d58297be2618c7498f55baa07d7e03184e8aada20bca28888bf7a",
    false,
  ],
  [
    "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    "993c6ad11c4c29da9a56f7691fd0ff8d732e49de6250b6c2e80003ff4629a175",
    false,
  ],
];

Deno.test("CPace string utilities match draft-21 Appendix A", () => {
  assert.equal(hex(prependLen(new Uint8Array(0))), "00");
  assert.equal(hex(prependLen(utf8("1234"))), "0431323334");
  const range = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  assert.equal(hex(prependLen(range(127))), "7f" + hex(range(127)));
  assert.equal(hex(prependLen(range(128))), "8001" + hex(range(128)));
  assert.equal(
    hex(lvCat(utf8("1234"), utf8("5"), new Uint8Array(0), utf8("678"))),
    "043132333401350003363738",
  );
});

Deno.test("CPace X25519 generator, shares, K and ISK (IR) match draft-21 Appendix B.1", () => {
  assert.equal(hex(generatorString(DSI, B1.prs, B1.ci, B1.sid)), B1.generatorString);
  assert.equal(hex(calculateGenerator(B1.prs, B1.ci, B1.sid)), B1.g);
  const inputs = { prs: B1.prs, ci: B1.ci, sid: B1.sid, ada: B1.ada, adb: B1.adb };
  const a = cpaceShare(inputs, B1.ya);
  assert.equal(hex(a.share), B1.Ya);
  const b = respond(inputs, a.share, B1.yb);
  assert.equal(hex(b.yb), B1.Yb);
  assert.equal(hex(scalarMultVfy(B1.yb, a.share)), B1.K);
  assert.equal(hex(scalarMultVfy(B1.ya, b.yb)), B1.K);
  assert.equal(hex(b.isk), B1.iskIr);
  const aKeys = finishInitiator(inputs, B1.ya, a.share, b.yb);
  assert.equal(hex(aKeys.isk), B1.iskIr);
  assert.deepEqual(aKeys.ta, b.ta); // the MCF tags agree on both sides
  assert.deepEqual(aKeys.tb, b.tb);
  assert.notDeepEqual(b.ta, b.tb);
});

Deno.test("CPace scalar_mult_vfy on draft-21's low-order and non-canonical points; aborts", () => {
  const s = unhex(LOW_ORDER_S);
  const inputs = { prs: B1.prs, ci: B1.ci, sid: B1.sid, ada: B1.ada, adb: B1.adb };
  for (const [u, q, aborts] of LOW_ORDER) {
    assert.equal(hex(scalarMultVfy(s, unhex(u))), q, `u = ${u}`);
    if (aborts) {
      assert.throws(() => respond(inputs, unhex(u)), CPaceAbort, `B given Ya = ${u}`);
      const a = cpaceShare(inputs);
      assert.throws(() => finishInitiator(inputs, a.scalar, a.share, unhex(u)), CPaceAbort);
    }
  }
  assert.throws(() => cpaceKeys(inputs, unhex(ZERO), unhex(B1.Ya), unhex(B1.Yb)), CPaceAbort);
});
