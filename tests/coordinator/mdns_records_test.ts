/** What the mDNS responder answers, and to whom. */
import assert from "node:assert/strict";
import { answerFor, onLinkTest, SERVICE_TYPE } from "../../coordinator/discovery/mdns.ts";

const instance = `party-1.${SERVICE_TYPE}`;
const records = [
  {
    name: "_services._dns-sd._udp.local",
    type: "PTR" as const,
    ttl: 4500,
    flush: false,
    data: SERVICE_TYPE,
  },
  { name: SERVICE_TYPE, type: "PTR" as const, ttl: 4500, flush: false, data: instance },
  {
    name: instance,
    type: "SRV" as const,
    ttl: 120,
    flush: true,
    data: { port: 8927, target: "party-1.local", priority: 0, weight: 0 },
  },
  { name: instance, type: "TXT" as const, ttl: 4500, flush: true, data: ["path=/sendspin"] },
  { name: "party-1.local", type: "A" as const, ttl: 120, flush: true, data: "192.168.1.20" },
];
const types = (list: { type: string }[]) => list.map((r) => r.type);

Deno.test("a browse for the service gets the PTR, with SRV, TXT and A alongside", () => {
  const { answers, additionals } = answerFor(records, { name: SERVICE_TYPE, type: "PTR" });
  assert.deepEqual(types(answers), ["PTR"]);
  assert.deepEqual(types(additionals), ["SRV", "TXT", "A"]);
});

Deno.test("other questions get just what they ask for, in any case of letters", () => {
  assert.deepEqual(
    types(answerFor(records, { name: "_SERVICES._dns-sd._udp.local", type: "PTR" }).answers),
    ["PTR"],
  );
  assert.deepEqual(types(answerFor(records, { name: instance, type: "ANY" }).answers), [
    "SRV",
    "TXT",
  ]);
  assert.deepEqual(types(answerFor(records, { name: "party-1.local", type: "A" }).answers), ["A"]);
  assert.deepEqual(answerFor(records, { name: "other.local", type: "A" }).answers, []);
  assert.deepEqual(answerFor(records, { name: SERVICE_TYPE, type: "SRV" }).answers, []);
});

Deno.test("only the local link is answered", () => {
  const interfaces = [
    { family: "IPv4" as const, address: "192.168.1.20", cidr: "192.168.1.20/24" },
    { family: "IPv4" as const, address: "10.0.0.5", cidr: "10.0.0.5/8" },
  ];
  const onLink = onLinkTest("192.168.1.20", interfaces);
  assert.ok(onLink("192.168.1.77"));
  assert.ok(onLink("::ffff:192.168.1.3"));
  assert.equal(onLink("192.168.2.77"), false);
  assert.equal(onLink("10.0.0.9"), false, "another interface's network is not ours");
  assert.equal(onLink("8.8.8.8"), false);
  assert.equal(onLink("fe80::1"), false);
  // Our interface unknown (the list is not readable): everyone rather than no one.
  assert.ok(onLinkTest("192.168.1.20", [])("10.1.2.3"));
});
