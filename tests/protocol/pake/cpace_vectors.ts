// Published test vectors of draft-irtf-cfrg-cpace-21 (IETF Trust), transcribed as hex:
// Appendix B.1 "Test vector for CPace using group X25519 and hash SHA-512" (generator, messages,
// K, transcript_ir, ISK, and the scalar_mult_vfy low-order table), and the string utility
// vectors of its appendix "CPace function definitions" (prepend_len, lv_cat, transcript_ir).

const join = (...lines: string[]) => lines.join("");

export const X25519_SHA512 = {
  prs: "Password",
  zeroPadBytes: 109,
  ci: "0b415f696e69746961746f720b425f726573706f6e646572",
  sid: "7e4b4791d6a8ef019b936c79fb7f2c57",
  generatorString: join(
    "0843506163653235350850617373776f72646d000000000000000000",
    "00000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000180b415f696e69746961746f",
    "720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f",
    "2c57",
  ),
  generatorStringHash: join(
    "03998087bdb1a2617bbe25ef5a7c18cd4f84f902328701790958755e",
    "e4aed1d3",
  ),
  decodedU: join(
    "03998087bdb1a2617bbe25ef5a7c18cd4f84f902328701790958755e",
    "e4aed153",
  ),
  g: join(
    "d04bf6d41f6a289632a2e929fa29bebd51092512a7829fdde7d314b6",
    "2f05a73f",
  ),
  ada: "ADa",
  ya: join(
    "21b4f4bd9e64ed355c3eb676a28ebedaf6d8f17bdc365995b3190971",
    "53044080",
  ),
  Ya: join(
    "1d13c89278cdadd826f6d8d7f887701430f8380ddc17611cdd6dc989",
    "ce0c9f32",
  ),
  adb: "ADb",
  yb: join(
    "848b0779ff415f0af4ea14df9dd1d3c29ac41d836c7808896c4eba19",
    "c51ac40a",
  ),
  Yb: join(
    "248cccf6d5cdc3646f0ad593f9e6cef4e69d4945f8372e623512ecea",
    "32185623",
  ),
  K: join(
    "5b067effbdc0b2a0e1d907b21ebb25cfedb96a852179a847c37e43ee",
    "71322c6b",
  ),
  transcriptIr: join(
    "201d13c89278cdadd826f6d8d7f887701430f8380ddc17611cdd6dc9",
    "89ce0c9f320341446120248cccf6d5cdc3646f0ad593f9e6cef4e69d",
    "4945f8372e623512ecea3218562303414462",
  ),
  iskDsi: "43506163653235355f49534b",
  iskInput: join(
    "0c43506163653235355f49534b107e4b4791d6a8ef019b936c79fb7f",
    "2c57205b067effbdc0b2a0e1d907b21ebb25cfedb96a852179a847c3",
    "7e43ee71322c6b201d13c89278cdadd826f6d8d7f887701430f8380d",
    "dc17611cdd6dc989ce0c9f320341446120248cccf6d5cdc3646f0ad5",
    "93f9e6cef4e69d4945f8372e623512ecea3218562303414462",
  ),
  iskIr: join(
    "6e19b875f7a561d6b3ca3dbb9ef42ac55de3e717881018204b8922b4",
    "d5e53bb2aa82c300bea7b65d2b671da71922ddf6472301b79bc270ad",
    "fa8bf413285f2263",
  ),
} as const;

/** "Test vectors for G_X25519.scalar_mult_vfy: low order points": q = scalar_mult_vfy(s, u). */
export const LOW_ORDER = {
  s: "af46e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449aff",
  cases: [
    ["u0", "0000000000000000000000000000000000000000000000000000000000000000", "abort"],
    ["u1", "0100000000000000000000000000000000000000000000000000000000000000", "abort"],
    ["u2", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "abort"],
    ["u3", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", "abort"],
    ["u4", "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", "abort"],
    ["u5", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "abort"],
    [
      "u6",
      "daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "d8e2c776bbacd510d09fd9278b7edcd25fc5ae9adfba3b6e040e8d3b71b21806",
    ],
    ["u7", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "abort"],
    [
      "u8",
      "dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "c85c655ebe8be44ba9c0ffde69f2fe10194458d137f09bbff725ce58803cdb38",
    ],
    [
      "u9",
      "d9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "db64dafa9b8fdd136914e61461935fe92aa372cb056314e1231bc4ec12417456",
    ],
    [
      "ua",
      "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
      "e062dcd5376d58297be2618c7498f55baa07d7e03184e8aada20bca28888bf7a",
    ],
    [
      "ub",
      "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
      "993c6ad11c4c29da9a56f7691fd0ff8d732e49de6250b6c2e80003ff4629a175",
    ],
  ] as const,
};

/** prepend_len test vectors: the input, and the output hex. */
export const PREPEND_LEN = {
  empty: "00",
  text1234: "0431323334",
  range127: join(
    "7f000102030405060708090a0b0c0d0e0f101112131415161718191a1b",
    "1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738",
    "393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455",
    "565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172",
    "737475767778797a7b7c7d7e",
  ),
  range128: join(
    "8001000102030405060708090a0b0c0d0e0f101112131415161718191a",
    "1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
    "38393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354",
    "55565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071",
    "72737475767778797a7b7c7d7e7f",
  ),
} as const;

/** lv_cat(b"1234", b"5", b"", b"678"). */
export const LV_CAT = "043132333401350003363738";

/** transcript_ir string vectors: [Ya, ADa, Yb, ADb] as text, and the output hex. */
export const TRANSCRIPT_IR = [
  [["123", "PartyA", "234", "PartyB"], "03313233065061727479410332333406506172747942"],
  [["3456", "PartyA", "2345", "PartyB"], "043334353606506172747941043233343506506172747942"],
] as const;
