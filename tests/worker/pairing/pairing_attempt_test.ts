/**
 * The server's pairing attempt against a stand-in connection: its own timeouts (a client that
 * never starts, or never finishes), the round limit, and the leftovers it must drop.
 */
import assert from "node:assert/strict";
import { PairingAttempt, type PairingLink } from "../../../worker/pairing/pairing_attempt.ts";
import type { PairingStage } from "../../../protocol/ipc.ts";

interface Fake extends PairingLink {
  sent: { type: string; payload: Record<string, unknown> }[];
  closed: boolean;
}

function fakeLink(category: "sn" | "pr" | "lt" = "sn"): Fake {
  const link: Fake = {
    suite: "25519_ChaChaPoly_SHA256",
    handshakeHash: new Uint8Array(32).fill(3),
    matched: { category },
    sent: [],
    closed: false,
    activatePairing(pairing) {
      link.sent.push({ type: "server/activate", payload: { activities: ["pairing"], pairing } });
      return 1;
    },
    rehandshake(_choice, then) {
      link.sent.push({ type: "noise/handshake", payload: {} });
      then();
    },
    send(type, payload) {
      link.sent.push({ type, payload });
    },
    closeSilently() {
      link.closed = true;
    },
  };
  return link;
}

function attempt(link: Fake, method: "static_pairing_code" | "dynamic_pairing_code", ms = 30) {
  const stages: [PairingStage, string | undefined][] = [];
  let over = 0;
  const a = new PairingAttempt({
    link,
    method,
    secret: method === "static_pairing_code" ? "12345678" : undefined,
    onStage: (stage, detail) => stages.push([stage, detail]),
    onOver: () => over++,
    timeouts: { pairInitMs: ms, attemptMs: ms },
  });
  a.start();
  return { attempt: a, stages, over: () => over };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a client that never sends client/pair-init: the server ends the attempt itself", async () => {
  const link = fakeLink();
  const { stages, over } = attempt(link, "static_pairing_code");
  assert.deepEqual(link.sent.map((m) => m.type), ["server/activate"]);
  await wait(60);
  assert.deepEqual(stages, [["ended", "it did not start pairing within 2 minutes"]]);
  assert.equal(over(), 1, "the connection leaves pairing");
  link.pairingInbox?.("client/pair-init", { pairing_index: 1 }); // too late: dropped
  assert.equal(link.closed, false);
});

Deno.test("a client that starts but never finishes: ended at the attempt's bound", async () => {
  const link = fakeLink();
  const { stages, over } = attempt(link, "static_pairing_code");
  link.pairingInbox!("client/pair-init", { pairing_index: 1 });
  assert.equal(link.sent.at(-1)?.type, "server/pair-auth");
  await wait(60);
  assert.deepEqual(stages.at(-1), ["ended", "it did not finish within the attempt's time"]);
  assert.equal(over(), 1);
});

Deno.test("a paired connection re-handshakes to the Sentinel before a code pairing", () => {
  const link = fakeLink("lt");
  attempt(link, "dynamic_pairing_code", 1_000).attempt.cancel();
  assert.deepEqual(link.sent.map((m) => m.type), [
    "noise/handshake",
    "server/activate",
    "pair/abort",
  ]);
  assert.deepEqual(link.sent[2].payload, { reason: "user_cancelled" });
});

Deno.test("leftovers of a superseded attempt are dropped; an index from the future closes", () => {
  const link = fakeLink();
  const { attempt: a } = attempt(link, "dynamic_pairing_code", 1_000);
  link.pairingInbox!("client/pair-pending", { pairing_index: 0 });
  assert.equal(link.closed, false);
  link.pairingInbox!("client/pair-init", { pairing_index: 2, commit_B: "A".repeat(43) });
  assert.equal(link.closed, true, "a protocol error: closed without a word");
  assert.equal(a.over, true);
});

Deno.test("the dynamic flow stops after 20 rounds of wrong codes", () => {
  const link = fakeLink();
  const { attempt: a, stages } = attempt(link, "dynamic_pairing_code", 5_000);
  link.pairingInbox!("client/pair-init", { pairing_index: 1, commit_B: "A".repeat(43) });
  for (let round = 1; round <= 20; round++) {
    assert.equal(a.enterCode("123456"), undefined);
    // The client's share: any valid point will do for a round the client then rejects.
    link.pairingInbox!("client/pair-auth", { pake_msg_2: "CQ" + "A".repeat(41) });
    assert.equal(link.sent.at(-1)?.type, "server/pair-confirm");
    link.pairingInbox!("client/pair-retry", {});
  }
  assert.deepEqual(stages.at(-1), ["ended", "the code did not match 20 times"]);
  assert.equal(
    a.enterCode("123456"),
    "it is not showing a code now: wait for it to, then type the code",
  );
  a.cancel();
});
