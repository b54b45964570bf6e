// Sendspin-shaped handshake vectors (digest §9.1). NOT published anywhere: computed for the
// team's spec digest by an independent Python implementation (Python `cryptography`, i.e.
// OpenSSL, plus hashlib), which first reproduced the cacophony vectors. A second opinion, not an
// authority: on a disagreement, check the spec first. Private keys are bytes repeated 32 times.

export const KEYS = {
  clientStaticPrivHex: "0101010101010101010101010101010101010101010101010101010101010101",
  clientStaticPubHex: "a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209",
  clientId: "pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk",
  serverStaticPrivHex: "0202020202020202020202020202020202020202020202020202020202020202",
  serverStaticPubHex: "ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59",
  serverId: "zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk",
  serverEphemeralPrivHex: "0303030303030303030303030303030303030303030303030303030303030303",
  clientEphemeralPrivHex: "0404040404040404040404040404040404040404040404040404040404040404",
};

export const SERVER_INIT_TEXT =
  '{"type":"server/init","payload":{"server_id":"zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk","version":1}}';
export const LONG_TERM_PSK_HEX = "5555555555555555555555555555555555555555555555555555555555555555";
export const LONG_TERM_PSK_ID = "F3KydTWoy-3J9zfTSamtx0BqtQvx7IIgcansEYRoOHg";

/** First transport plaintexts (type byte 0 + JSON), the same in A, B and C. */
export const SERVER_HELLO_PLAINTEXT_HEX =
  "007b2274797065223a227365727665722f68656c6c6f222c227061796c6f6164223a7b226e616d65223a225465737420536572766572227d7d";
export const CLIENT_HELLO_PLAINTEXT_HEX =
  "007b2274797065223a22636c69656e742f68656c6c6f222c227061796c6f6164223a7b226e616d65223a225465737420436c69656e74222c22737570706f727465645f726f6c6573223a5b22706c61796572407631225d2c22706c617965724076315f737570706f7274223a7b22737570706f727465645f666f726d617473223a5b7b22636f646563223a2270636d222c226368616e6e656c73223a322c2273616d706c655f72617465223a34383030302c226269745f6465707468223a31367d5d2c226275666665725f6361706163697479223a313034383537367d2c22737570706f727465645f706169725f6d6574686f6473223a7b2270616972696e675f70736b223a7b7d7d2c22756e7061697265645f616363657373223a7b22656e61626c6564223a747275657d7d7d";

/** A: Sentinel, ChaChaPoly. B: Sentinel, AESGCM. C: lt referenced, client falls back to the Sentinel. */
export const VECTORS = {
  A: {
    suite: "25519_ChaChaPoly_SHA256",
    clientInitText:
      '{"type":"client/init","payload":{"client_id":"pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk","version":1,"suite":"25519_ChaChaPoly_SHA256"}}',
    referencedPsk: "sentinel",
    msg1Payload: '{"psk_id":"GFsV9tLaSQm9HcFWpKsgYQOr7wFTvNUtkmFwuVz3zoo","psk_category":"sn"}',
    msg1Hex:
      "5dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df1c6e0124b3ef2287da167cb34484080b00b82409f6165dbfdaf1f41f42a8c0643a227b32d18013d46545590258b2f45d175ee8cef2d7c371fcd2e48fc3424810f3f40ef789eb02f6cdc21f30462b20f1382aad88a5c7cb361c2b327fe85a6a2b9b2b4f",
    msg2Hex:
      "ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b4b5bff23650038f0c67c4b397c4368bb069e",
    noiseHandshake1Text:
      '{"type":"noise/handshake","payload":{"data":"Xf7dO2vUf2-ijuFdlp1bsOpTd01Ii9r53xxuASSz7yKH2hZ8s0SECAsAuCQJ9hZdv9rx9B9CqMBkOiJ7MtGAE9RlRVkCWLL0XRde6M7y18Nx_NLkj8NCSBDz9A73iesC9s3CHzBGKyDxOCqtiKXHyzYcKzJ_6FpqK5srTw"}}',
    noiseHandshake2Text:
      '{"type":"noise/handshake","payload":{"data":"rAGyIJ6GNU-4UyN7XeD0-rE8f8v0M6YcAZNpYX_s8QtLW_8jZQA48MZ8Szl8Q2i7Bp4"}}',
    handshakeHashHex: "a5eac0fd77b5b18c97d0b6e98a88e01a2d1f896b87112899e5690833de6c9b39",
    serverHelloCiphertextHex:
      "335cdd283e8178eed99a9142eead056f9d8bf16134f9a3f7c47e690c364ddf8502168cb9c5778443dc3fd0bc962a0215a814b1d817ec36461e612e1618026dcf059bf578a1de1e0b85",
    clientHelloCiphertextHex:
      "fdc31bc1adea6382cab4c6ccce51c7a7bb72421b0e553ab30c71ea985f1fdac6c6bbe4ff464da99c3a1140082bc35c01908b722cf17a38692a3a4671769a35285c1827c6999ec7da2b88ffca3e1748c0f9f64029c0df563061611e0cfecb94e6ef48b7f3983264d4dd30aeea6a5a63d52e56fa64fcbb3f017fae7dd2bcebb933724477b564980ff7767f0718be1a22d1e84a9fc470e22ffa71e5ad65e100eeb896b1d29b2030dcb4bb7dd57480d69dfc849de23b7a8b333cc13b9b684994ec3bd8fae91b0007402c335e71a44f36be269f50a39eb186a67f1a71f198c5c1debef7379263df7012ffe2d902bf7d6657a49a5d6de618bc0b18840f564ab6392225379ffbf32a298b5d312a9540410a49d45285f2d45328d9a19f58283174df266d3d7139c50d43db520d8255e4ff87e0fbb96c63a4cdd9117a429562c56e85",
  },
  B: {
    suite: "25519_AESGCM_SHA256",
    clientInitText:
      '{"type":"client/init","payload":{"client_id":"pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk","version":1,"suite":"25519_AESGCM_SHA256"}}',
    referencedPsk: "sentinel",
    msg1Payload: '{"psk_id":"GFsV9tLaSQm9HcFWpKsgYQOr7wFTvNUtkmFwuVz3zoo","psk_category":"sn"}',
    msg1Hex:
      "5dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df1c6e0124b3ef22107e4a15b050de6c7d563dfb384d3d41822cc7fac56b474e374c3893ead9c1038a9ebfde274866d16dcd491df11796ec0f83099da65a49ac3efc3c68fbdac4b2ad5d07821b289808a2b0ff1cbbc7f74e910073dbdb7321e497dd4081",
    msg2Hex:
      "ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10bf560270f0a945369a069e1a3114d36cd8b6f",
    noiseHandshake1Text:
      '{"type":"noise/handshake","payload":{"data":"Xf7dO2vUf2-ijuFdlp1bsOpTd01Ii9r53xxuASSz7yIQfkoVsFDebH1WPfs4TT1BgizH-sVrR043TDiT6tnBA4qev94nSGbRbc1JHfEXluwPgwmdplpJrD78PGj72sSyrV0HghsomAiisP8cu8f3TpEAc9vbcyHkl91AgQ"}}',
    noiseHandshake2Text:
      '{"type":"noise/handshake","payload":{"data":"rAGyIJ6GNU-4UyN7XeD0-rE8f8v0M6YcAZNpYX_s8Qv1YCcPCpRTaaBp4aMRTTbNi28"}}',
    handshakeHashHex: "f4b48e5e98265e81da55bf420ec0207f5e75b36e88bb9f482aa3fa6de9233a4a",
    serverHelloCiphertextHex:
      "e187f15aa302ad14ae51e090d600e3da03da737066f604161ff922c59dd023e48d7ca114c8a830e1d2312ed3aa72942a110302001a116e78c512d07a59cbf565c8c44f5d2e24d56984",
    clientHelloCiphertextHex:
      "23ad81abb86b07e3617280ba40b09d46280385cbb2844201d349c205fe2a0124c4b59f62eb881b7ec8cf3fa32de202604804a3f6c4c387fe087a6f743526155ea6b04e36069c93a8f6a3e3bed7437259eb38dd23cca84c1d2a26384171ec968f37fe4b56f27c91920773be03dda52c5593bf266b2b129724907ae277ca62bc56bd0f0fef7b4f70d19559ba7008c0c59ff2bbc8a625b2abfe560870e0e5ec8a815f85a5a58d799886a9c8dedadeed0fdeff68be7926bfa3143528fb986c74432774f94f58bf5fbe5874fca182f57f16e03b6209ac1ddb49e610a04e166d8e62ce0b978d4e5f682add9b2f542046a36d2a2631116a9c1f5d7b90fa824fef8a7559bdd243416874a7b2bff07bc24564b37e63e0e3ace15493d5ca18a3699c82fe41c1bea311e4c3b1fd5a88f459f17cdf00a7afe79b55775da2621c7d5fbf10",
  },
  C: {
    suite: "25519_ChaChaPoly_SHA256",
    clientInitText:
      '{"type":"client/init","payload":{"client_id":"pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk","version":1,"suite":"25519_ChaChaPoly_SHA256"}}',
    referencedPsk: "long-term",
    msg1Payload: '{"psk_id":"F3KydTWoy-3J9zfTSamtx0BqtQvx7IIgcansEYRoOHg","psk_category":"lt"}',
    msg1Hex:
      "5dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df1c6e0124b3ef2287da167cb34484080b00b8257cce39009fc1ffde631cdbb17d1a215818cf9332b568461a24689eb55a0b4de0c2dad3f37ed48ed1a8cb424810f3f40ef789eb02f6cdc21f30462b20ee222aad7340f0466b7f6db925398e08ee974b4a",
    msg2Hex:
      "ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b4b5b2dc0dcc3aeeba819c005981ac438d3a5",
    noiseHandshake1Text:
      '{"type":"noise/handshake","payload":{"data":"Xf7dO2vUf2-ijuFdlp1bsOpTd01Ii9r53xxuASSz7yKH2hZ8s0SECAsAuCV8zjkAn8H_3mMc27F9GiFYGM-TMrVoRhokaJ61WgtN4MLa0_N-1I7RqMtCSBDz9A73iesC9s3CHzBGKyDuIiqtc0DwRmt_bbklOY4I7pdLSg"}}',
    noiseHandshake2Text:
      '{"type":"noise/handshake","payload":{"data":"rAGyIJ6GNU-4UyN7XeD0-rE8f8v0M6YcAZNpYX_s8QtLWy3A3MOu66gZwAWYGsQ406U"}}',
    handshakeHashHex: "c485d734f452c8e28106e7f51fece1fa0c5f2d27e2dc882575ff4706d01d95b8",
    serverHelloCiphertextHex:
      "335cdd283e8178eed99a9142eead056f9d8bf16134f9a3f7c47e690c364ddf8502168cb9c5778443dc3fd0bc962a0215a814b1d817ec36461e612e1618026dcf059bf578a1de1e0b85",
    clientHelloCiphertextHex:
      "fdc31bc1adea6382cab4c6ccce51c7a7bb72421b0e553ab30c71ea985f1fdac6c6bbe4ff464da99c3a1140082bc35c01908b722cf17a38692a3a4671769a35285c1827c6999ec7da2b88ffca3e1748c0f9f64029c0df563061611e0cfecb94e6ef48b7f3983264d4dd30aeea6a5a63d52e56fa64fcbb3f017fae7dd2bcebb933724477b564980ff7767f0718be1a22d1e84a9fc470e22ffa71e5ad65e100eeb896b1d29b2030dcb4bb7dd57480d69dfc849de23b7a8b333cc13b9b684994ec3bd8fae91b0007402c335e71a44f36be269f50a39eb186a67f1a71f198c5c1debef7379263df7012ffe2d902bf7d6657a49a5d6de618bc0b18840f564ab6392225379ffbf32a298b5d312a9540410a49d45285f2d45328d9a19f58283174df266d3d7139c50d43db520d8255e4ff87e0fbb96c63a4cdd9117a429562c56e85",
  },
} as const;

/** D: re-handshake after A to the long-term PSK; prologue = A's h. */
export const REHANDSHAKE = {
  prologueHex: "a5eac0fd77b5b18c97d0b6e98a88e01a2d1f896b87112899e5690833de6c9b39",
  serverEphemeralPrivHex: "0505050505050505050505050505050505050505050505050505050505050505",
  clientEphemeralPrivHex: "0606060606060606060606060606060606060606060606060606060606060606",
  msg1Payload: '{"psk_id":"F3KydTWoy-3J9zfTSamtx0BqtQvx7IIgcansEYRoOHg","psk_category":"lt"}',
  msg1Hex:
    "50a61409b1ddd0325e9b16b700e719e9772c07000b1bd7786e907c653d20495dd691b058863fb121aafae7e0a6386de2793910f0d220458b0d2057115298aaad8de6974771fb829ea27fa56cec096ae880b0573465428b80572fb850ed3b78af4d6367ec21b281ec2b42e9e9e78f574ad0301c17ea193ceed6f343dd",
  msg2Hex:
    "f5b2d6e60f9477e310c2982daaa6c9136c108a1777c5947e448fa37d681745574e0814909f5f8b1d4c46899bc6a00333e510",
  handshakeHashHex: "f955725161260dde5e053257501d68f917750c365993b95ea4dc9d98c175d417",
};
