// Transport framing at its exact limits (connection.md): the server's sender and receiver
// against the test side's framing, both suites.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CipherState } from "../../../protocol/noise/cipher_state.ts";
import { SUITE_NAMES, suiteByName, type SuiteName } from "../../../protocol/noise/suites.ts";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  TransportCloseError,
  TransportReceiver,
  type TransportReceiverOptions,
  TransportSender,
} from "../../../protocol/noise/transport.ts";
import { sealMessage, TestReceiver } from "../../support/noise/framing.ts";
import { TestCipher } from "../../support/noise/responder.ts";

/** Both directions over one random key per direction, without a handshake. */
function link(suite: SuiteName, options?: TransportReceiverOptions) {
  const down = randomBytes(32);
  const up = randomBytes(32);
  return {
    server: new TransportSender(new CipherState(suiteByName(suite)!, down)),
    client: new TestReceiver(new TestCipher(suite, down)),
    clientOut: new TestCipher(suite, up),
    serverIn: new TransportReceiver(new CipherState(suiteByName(suite)!, up), options),
  };
}

const body = (bytes: number) => new Uint8Array(randomBytes(bytes));

for (const suite of SUITE_NAMES) {
  Deno.test(`${suite}: a 65518-byte body fits one 65535-byte message, 65519 needs two`, () => {
    const { server, client } = link(suite);
    const fits = body(65518);
    const one = server.seal(4, fits);
    assert.deepEqual(one.map((m) => m.byteLength), [65535]);
    assert.deepEqual(client.open(one[0]), { type: 4, body: fits });

    const over = body(65519);
    const two = server.seal(4, over);
    assert.deepEqual(two.map((m) => m.byteLength), [65535, 16 + 2 + 3]);
    // Look inside: [1][first][orig_type][65516 data], then [1][last][3 data].
    const peek = new TestCipher(suite, client.cipher.key);
    peek.n = client.cipher.n;
    assert.deepEqual(peek.decrypt(two[0]).subarray(0, 3), Uint8Array.of(1, 0x02, 4));
    assert.deepEqual(peek.decrypt(two[1]).subarray(0, 2), Uint8Array.of(1, 0x01));
    assert.equal(client.open(two[0]), undefined);
    assert.deepEqual(client.open(two[1]), { type: 4, body: over });
  });

  Deno.test(`${suite}: a 200 KB message is fragmented and reassembled both ways`, () => {
    const { server, client, clientOut, serverIn } = link(suite);
    const big = body(200_000);
    const header = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2);
    const down = server.seal(4, [header, big]); // parts: header in front of a shared frame
    assert.equal(down.length, 4);
    assert.ok(down.every((m) => m.byteLength <= 65535));
    const opened = down.map((m) => client.open(m));
    assert.deepEqual(opened.slice(0, 3), [undefined, undefined, undefined]);
    assert.deepEqual(opened[3], { type: 4, body: Uint8Array.from([...header, ...big]) });

    const up = sealMessage(clientOut, 0, big);
    const received = up.map((m) => serverIn.open(m));
    assert.deepEqual(received.at(-1), { type: 0, body: big });
    assert.ok(received.slice(0, -1).every((m) => m === undefined));
    // The receiver is ready for the next message.
    assert.deepEqual(serverIn.open(sealMessage(clientOut, 0, big.subarray(0, 5))[0]), {
      type: 0,
      body: big.subarray(0, 5),
    });
  });

  Deno.test(`${suite}: messages sealed from parts equal the ones sealed whole`, () => {
    const a = link(suite);
    const whole = body(70_000);
    const parts = [whole.subarray(0, 13), whole.subarray(13, 13), whole.subarray(13)];
    for (const sealed of [a.server.seal(8, parts), a.server.seal(8, whole)]) {
      const out = sealed.map((m) => a.client.open(m));
      assert.deepEqual(out.at(-1), { type: 8, body: whole });
    }
  });
}

Deno.test("seal refuses type 1 and non-byte types", () => {
  const { server } = link("25519_ChaChaPoly_SHA256");
  for (const type of [1, -1, 256, 1.5, NaN]) {
    assert.throws(() => server.seal(type, new Uint8Array(1)), RangeError, String(type));
  }
});

const F = (...bytes: number[]) => Uint8Array.of(1, ...bytes);

const VIOLATIONS: [string, Uint8Array[]][] = [
  ["a first fragment while one is in flight", [F(0x02, 4, 1, 2), F(0x02, 4, 3)]],
  ["a non-first fragment with none in flight", [F(0x00, 9)]],
  ["a last fragment with none in flight", [F(0x01, 9)]],
  ["a JSON message while a fragment is in flight", [F(0x02, 4, 1), Uint8Array.of(0, 0x7b, 0x7d)]],
  ["an audio chunk while a fragment is in flight", [F(0x02, 4, 1), Uint8Array.of(4, 1)]],
  ["reserved flag bit 2", [F(0x06, 4, 1)]],
  ["reserved flag bit 7", [F(0x82, 4, 1)]],
  ["reserved bits on a later fragment", [F(0x02, 4, 1), F(0x05, 1)]],
  ["orig_type 1 (lone fragment)", [F(0x03, 1, 9)]],
  ["orig_type 1 (first fragment)", [F(0x02, 1, 9)]],
  ["an empty plaintext", [new Uint8Array(0)]],
  ["a fragment without flags", [Uint8Array.of(1)]],
  ["a first fragment without orig_type", [Uint8Array.of(1, 0x02)]],
];

for (const [what, plaintexts] of VIOLATIONS) {
  Deno.test(`the receiver closes on ${what}, and stays closed`, () => {
    const { clientOut, serverIn } = link("25519_AESGCM_SHA256");
    const sealed = plaintexts.map((plaintext) => clientOut.encrypt(plaintext));
    for (const message of sealed.slice(0, -1)) serverIn.open(message);
    assert.throws(
      () => serverIn.open(sealed.at(-1)!),
      (e) => e instanceof TransportCloseError && !/authentication/.test(e.message),
    );
    const [next] = sealMessage(clientOut, 0, Uint8Array.of(0x7b, 0x7d));
    assert.throws(() => serverIn.open(next), TransportCloseError);
  });
}

Deno.test("a lone fragment (first and last, 0x03) is a valid one-piece message", () => {
  const { clientOut, serverIn } = link("25519_ChaChaPoly_SHA256");
  assert.deepEqual(serverIn.open(clientOut.encrypt(F(0x03, 4, 7, 8))), {
    type: 4,
    body: Uint8Array.of(7, 8),
  });
});

Deno.test("the reassembly cap: a configured cap and the 4 MiB default, each exact", () => {
  const small = link("25519_ChaChaPoly_SHA256", { maxMessageBytes: 100_000 });
  for (const m of sealMessage(small.clientOut, 4, body(100_000))) small.serverIn.open(m);
  const over = sealMessage(small.clientOut, 4, body(100_001));
  assert.throws(() => over.forEach((m) => small.serverIn.open(m)), TransportCloseError);

  assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 4 * 1024 * 1024);
  const big = link("25519_ChaChaPoly_SHA256");
  const atCap = sealMessage(big.clientOut, 4, body(DEFAULT_MAX_MESSAGE_BYTES));
  assert.equal(
    atCap.map((m) => big.serverIn.open(m)).at(-1)?.body.byteLength,
    DEFAULT_MAX_MESSAGE_BYTES,
  );
  const pastCap = sealMessage(big.clientOut, 4, body(DEFAULT_MAX_MESSAGE_BYTES + 1));
  let opened = 0;
  assert.throws(
    () => pastCap.forEach((m) => (big.serverIn.open(m), opened++)),
    TransportCloseError,
  );
  assert.equal(opened, pastCap.length - 1); // refused at the piece that crosses the cap
});

Deno.test("a transport message over 65535 bytes is refused before decryption", () => {
  const { serverIn } = link("25519_ChaChaPoly_SHA256");
  assert.throws(() => serverIn.open(new Uint8Array(65536)), TransportCloseError);
});
