/**
 * Each pairing method end to end, as a host does it: a speaker that turned unpaired access
 * off is refused playback; it is paired (its token with `sendspin pair`, its fixed code or
 * the code it shows, typed into the console); it plays under its long-term PSK, also after
 * reconnecting and after the server restarts; after `unpair` it is refused again.
 */
import assert from "node:assert/strict";
import { encodeBase64Url } from "../support/encrypted/ids.ts";
import { type PartyProcess, startParty } from "../support/party_process.ts";
import { runProgram } from "../support/program.ts";
import {
  assertPlaysPaired,
  assertRefused,
  consoleLine,
  numberOf,
  opts,
  records,
  Speaker,
} from "./support.ts";

type Pair = (party: PartyProcess, speaker: Speaker, home: string) => Promise<void>;

/** The life of one paired speaker, whichever way it is paired. */
async function pairedForLife(args: string[], speaker: Speaker, pair: Pair): Promise<void> {
  const home = Deno.makeTempDirSync();
  const party = await startParty(["--demo", ...args], { home, stdin: "piped" });
  try {
    const client = await speaker.connect(party.url);
    await assertRefused(client);
    await consoleLine(party, /plays only for a server it is paired with/);
    await pair(party, speaker, home);
    await assertPlaysPaired(client);
    assert.equal(client.pairings.length, 1, client.describe());
    const [record] = records(home);
    assert.equal(record.client_id, client.clientId);
    assert.equal(record.long_term_psk, encodeBase64Url(client.pairings[0].longTermPsk));
    await speaker.disconnect();
    await assertPlaysPaired(await speaker.connect(party.url));
    await speaker.disconnect();
  } finally {
    await speaker.disconnect();
    assert.equal(await party.stop(), 0, party.log());
  }
  const again = await startParty(["--demo", ...args], { home, stdin: "piped" });
  try {
    const client = await speaker.connect(again.url);
    await assertPlaysPaired(client);
    // Unpaired while it plays: its stream ends, it is re-keyed to the Sentinel and waits.
    const unpaired = await runProgram(["clients", "unpair", client.clientId.slice(0, 10)], {
      home,
    });
    assert.equal(unpaired.code, 0, unpaired.stderr + unpaired.stdout);
    assert.match(unpaired.stdout, new RegExp(`unpaired "${speaker.name}"`));
    await client.waitFor("the Sentinel again", () => client.matchedPsk === "sn");
    await assertRefused(client);
    assert.ok(client.messagesOf("stream/end").length > 0, "its stream ended");
    await speaker.disconnect();
    await assertRefused(await speaker.connect(again.url));
    assert.deepEqual(records(home), []);
  } finally {
    await speaker.disconnect();
    assert.equal(await again.stop(), 0, again.log());
  }
}

Deno.test(
  "pairing PSK: `sendspin pair SP:0...` pairs a speaker on 2 workers; it plays, after a restart too, until unpaired",
  opts,
  async () => {
    const speaker = new Speaker("Kitchen speaker");
    await pairedForLife(["--workers", "2"], speaker, async (_party, speaker, home) => {
      const paired = await runProgram(["pair", speaker.client!.pairingToken], { home });
      assert.equal(paired.code, 0, paired.stderr + paired.stdout);
      assert.match(paired.stdout, /paired "Kitchen speaker" \(id .{8}\): it plays now/);
      await speaker.client!.waitFor(
        "its record",
        () => speaker.client!.pairings[0]?.method === "pairing_psk",
      );
    });
  },
);

Deno.test(
  "static pairing code: the code printed on the speaker, typed into the console",
  opts,
  async () => {
    const speaker = new Speaker("Patio speaker", {
      pairing: { code: { kind: "static", code: "40182736" } },
    });
    await pairedForLife([], speaker, async (party) => {
      const number = await numberOf(party, "Patio speaker");
      await consoleLine(party, /type "p \d+" and the fixed 8-digit code printed on it to pair it/);
      await party.type(`p ${number} 4018-2736`);
      await consoleLine(party, /paired "Patio speaker"/);
      await speaker.client!.waitFor(
        "its record",
        () => speaker.client!.pairings[0]?.method === "static_pairing_code",
      );
    });
  },
);

Deno.test(
  "dynamic pairing code: the speaker shows a code, the host types it; a QR token works too",
  opts,
  async () => {
    const speaker = new Speaker("Living room", {
      pairing: { code: { kind: "dynamic", formats: ["digits"] } },
    });
    await pairedForLife([], speaker, async (party) => {
      const number = await numberOf(party, "Living room");
      await party.type(`p ${number}`);
      const code = await speaker.client!.nextPairingCode();
      assert.match(code, /^\d{6}$/);
      await consoleLine(party, /"Living room" shows or speaks a pairing code now/);
      await party.type(`c ${number} ${code.slice(0, 3)}-${code.slice(3)}`);
      await consoleLine(party, /paired "Living room"/);
      await speaker.client!.waitFor(
        "its record",
        () => speaker.client!.pairings[0]?.method === "dynamic_pairing_code",
      );
    });
    const screen = new Speaker("Screen", {
      pairing: { code: { kind: "dynamic", formats: ["qr_code"] } },
    });
    const home = Deno.makeTempDirSync();
    const party = await startParty(["--demo"], { home, stdin: "piped" });
    try {
      const client = await screen.connect(party.url);
      await party.type(`p ${await numberOf(party, "Screen")}`);
      const token = await client.nextPairingCode();
      assert.match(token, /^SP:1/);
      await party.type(`c ${await numberOf(party, "Screen")} ${token.toLowerCase()}`);
      await assertPlaysPaired(client);
    } finally {
      await screen.disconnect();
      assert.equal(await party.stop(), 0, party.log());
    }
  },
);
