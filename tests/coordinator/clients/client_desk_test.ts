/**
 * The operator's desk without a server: what each command sends to the workers, what it
 * answers in one line, and how clients are marked so a familiar name cannot pass for a
 * known device.
 */
import assert from "node:assert/strict";
import { ClientDesk } from "../../../coordinator/clients/client_desk.ts";
import { Approvals } from "../../../coordinator/clients/approvals.ts";
import { Pairings } from "../../../coordinator/clients/pairings.ts";
import type { DownMessage } from "../../../protocol/ipc.ts";
import { Logger } from "../../../protocol/log.ts";
import { encodeToken } from "../../support/pairing/token.ts";
import { encodeBase64Url } from "../../support/encrypted/ids.ts";

const key = (fill: number) => new Uint8Array(32).fill(fill);
const KITCHEN = encodeBase64Url(key(1));
const PATIO = encodeBase64Url(key(2));
const tokenOf = (clientKey: Uint8Array, psk = key(9)) => {
  const payload = new Uint8Array(64);
  payload.set(clientKey);
  payload.set(psk, 32);
  return encodeToken("0", payload);
};

/** What the desk says back to `line`. */
const run = (d: ClientDesk, line: string) => d.command(line).text;

function desk(folder?: string) {
  const sent: DownMessage[] = [];
  const lines: string[] = [];
  const log = new Logger("INFO");
  log.info = (line: string) => void lines.push(line);
  const warn = (line: string) => lines.push(line);
  const approvals = Approvals.load(folder, warn);
  const pairings = Pairings.load(folder, warn);
  const d = new ClientDesk({
    approvals,
    pairings,
    log,
    broadcast: (m) => sent.push(m),
    sendTo: (_worker, m) => sent.push(m),
  });
  return { desk: d, sent, lines, approvals, pairings };
}

Deno.test("a client waiting for pairing is announced with what to type, and paired with its code", () => {
  const { desk: d, sent, lines } = desk();
  d.waiting(0, KITCHEN, "Kitchen", "pairing", ["pairing_psk", "dynamic_pairing_code"]);
  assert.match(
    lines.at(-1)!,
    /^\[1\] "Kitchen" \(id AQEBAQEB, not paired, not approved\) plays only for a server it is paired with: it is connected, silent; type "p 1" to pair it \(it then shows or speaks a code\)$/,
  );
  assert.match(
    run(d, "p 1"),
    /^pairing "Kitchen" \(id AQEBAQEB\) with a code it shows or speaks$/,
  );
  assert.deepEqual(sent.at(-1), {
    type: "pair",
    clientId: KITCHEN,
    method: "dynamic_pairing_code",
  });
  d.pairing(0, KITCHEN, "Kitchen", "code", "1/digits");
  assert.match(
    lines.at(-1)!,
    /shows or speaks a pairing code now: type c 1 and the 6 digits \(c 1 123-456\)$/,
  );
  assert.equal(run(d, "c 1 123-456"), "");
  assert.deepEqual(sent.at(-1), { type: "pair-code", clientId: KITCHEN, code: "123456" });
  assert.match(run(d, "c 1 12345"), /6 digits/);
});

Deno.test("a token for another client is refused in one line, and nothing is sent", () => {
  const { desk: d, sent } = desk();
  d.waiting(0, KITCHEN, "Kitchen", "pairing", ["pairing_psk"]);
  d.waiting(0, PATIO, "Patio", "pairing", ["pairing_psk"]);
  const before = sent.length;
  assert.equal(
    run(d, `p 1 ${tokenOf(key(2))}`),
    'that token is for another client (id AgICAgIC), not "Kitchen" (id AQEBAQEB)',
  );
  assert.equal(sent.length, before);
  assert.match(run(d, `p ${tokenOf(key(2))}`), /^pairing "Patio"/);
  assert.deepEqual(sent.at(-1), {
    type: "pair",
    clientId: PATIO,
    method: "pairing_psk",
    secret: encodeBase64Url(key(9)),
  });
  assert.match(run(d, "p 1 SP:0NOTATOKEN!"), /token/);
});

Deno.test("a token for a client not connected waits for it; --pair tokens too", () => {
  const { desk: d, sent } = desk();
  assert.match(
    run(d, `pair ${tokenOf(key(1))}`),
    /is not connected: it is paired when it connects/,
  );
  d.waiting(0, KITCHEN, "Kitchen", "pairing", ["pairing_psk"]);
  assert.equal(sent.at(-1)?.type, "pair");
  const started = desk();
  const withToken = new ClientDesk({
    ...started.desk.options,
    tokens: [tokenOf(key(2))],
    broadcast: (m) => started.sent.push(m),
    sendTo: (_worker, m) => started.sent.push(m),
  });
  withToken.joined(0, PATIO, "Patio", "guest", ["pairing_psk"]);
  assert.deepEqual(started.sent.at(-1), {
    type: "pair",
    clientId: PATIO,
    method: "pairing_psk",
    secret: encodeBase64Url(key(9)),
  });
});

Deno.test("paired: the record is kept owner-only, its approval discarded, every worker told", () => {
  const folder = Deno.makeTempDirSync();
  const { desk: d, sent, approvals, pairings } = desk(folder);
  d.waiting(0, KITCHEN, "Kitchen", "approval", ["pairing_psk", "static_pairing_code"]);
  run(d, "a 1");
  assert.ok(approvals.has(KITCHEN));
  assert.match(
    run(d, "p 1"),
    /type p 1 and the fixed 8-digit code printed on it \(p 1 1234-5678\)/,
  );
  assert.match(run(d, "p 1 1234-5678"), /^pairing "Kitchen"/);
  assert.deepEqual(sent.at(-1), {
    type: "pair",
    clientId: KITCHEN,
    method: "static_pairing_code",
    secret: "12345678",
  });
  const outcome = d.outcome(KITCHEN);
  d.pairing(0, KITCHEN, "Kitchen", "paired", undefined, encodeBase64Url(key(7)));
  assert.equal(pairings.get(KITCHEN)?.psk, encodeBase64Url(key(7)));
  assert.equal(approvals.has(KITCHEN), false, "approval is discarded on a successful pairing");
  assert.deepEqual(sent.slice(-3).map((m) => m.type), ["approvals", "pairings", "pair-saved"]);
  assert.equal(Deno.statSync(`${folder}/paired-clients.json`).mode! & 0o777, 0o600);
  assert.match(run(d, "l"), /\[1\] "Kitchen" \(id AQEB.*\) paired, playing/);
  assert.match(run(d, "u 1"), /^unpaired "Kitchen"/);
  assert.deepEqual(sent.at(-1), { type: "pairings", clients: [] });
  return outcome.then((o) => assert.equal(o.ok, true));
});

Deno.test("a lost pairing is named from the record, with what to type", () => {
  const folder = Deno.makeTempDirSync();
  const { desk: d, lines, pairings } = desk(folder);
  pairings.add(KITCHEN, "Kitchen", encodeBase64Url(key(7)), "pairing_psk");
  d.pairing(0, KITCHEN, "", "lost");
  assert.match(
    lines.at(-1)!,
    /^\[1\] "Kitchen" \(id AQEBAQEB\) lost its pairing with this server .*type "p 1" to pair it again$/,
  );
});

Deno.test("a worker's word still on its way does not end a pairing the operator just started", () => {
  const { desk: d, sent } = desk();
  d.joined(0, KITCHEN, "Kitchen", "paired", ["dynamic_pairing_code"]);
  run(d, "p 1");
  // The "joined" of its first pairing's re-handshake, read after the operator's second "p".
  d.joined(0, KITCHEN, "Kitchen", "paired", ["dynamic_pairing_code"]);
  d.pairing(0, KITCHEN, "Kitchen", "code", "1/digits");
  assert.equal(run(d, "c 1 123-456"), "");
  assert.deepEqual(sent.at(-1), { type: "pair-code", clientId: KITCHEN, code: "123456" });
  assert.match(run(d, "l"), /\[1\] "Kitchen" .*, pairing$/);
  d.pairing(0, KITCHEN, "Kitchen", "ended", "it does not offer dynamic_pairing_code now");
  assert.match(run(d, "c 1 123-456"), /^no pairing under way with 1: type "p N" first$/);
  assert.match(run(d, "l"), /\[1\] "Kitchen" .*, playing$/);
});
