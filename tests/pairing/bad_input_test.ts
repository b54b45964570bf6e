/**
 * Pairing under bad input, on a real 2-worker party (pairing.md): a wrong code, tampered PAKE
 * messages, a replay, an index from the future, a speaker that gives up, a client that pairs
 * twice, two pairing at once, a token for another client, a speaker that lost its pairing.
 * Each gets the spec's answer (an abort reason, or a silent close for a protocol error), the
 * attempt ends, and a steady legacy and a steady encrypted listener lose nothing.
 */
import assert from "node:assert/strict";
import { EncryptedClient } from "../support/encrypted/client.ts";
import type { PairingTamper } from "../support/encrypted/options.ts";
import { startParty } from "../support/party_process.ts";
import { format, RawClient } from "../support/raw_client.ts";
import {
  assertPlaysPaired,
  assertRefused,
  consoleLine,
  numberOf,
  opts,
  records,
  Speaker,
  withConsole,
} from "./support.ts";

const CHUNK_US = 60_000;
const STATIC_CODE = "40182736";

function assertContiguous(stamps: number[], what: string) {
  for (let i = 1; i < stamps.length; i++) {
    assert.equal(stamps[i] - stamps[i - 1], CHUNK_US, `${what} lost audio at chunk ${i}`);
  }
}

const dynamic = (tamper?: PairingTamper) => ({
  pairing: { code: { kind: "dynamic" as const }, ...(tamper ? { tamper } : {}) },
});
const fixed = (tamper?: PairingTamper) => ({
  pairing: { code: { kind: "static" as const, code: STATIC_CODE }, ...(tamper ? { tamper } : {}) },
});

/** Closed without a word: pairing.md's answer to a protocol error. */
async function assertClosedSilently(client: EncryptedClient): Promise<void> {
  await client.waitFor("a silent close", () => client.closed !== undefined);
  assert.equal(client.closed!.reason, "", client.describe());
  assert.equal(client.pairings.length, 0, "nothing persisted");
}

Deno.test(
  "pairing: each bad input gets the spec's answer; steady listeners lose nothing",
  opts,
  async (t) => {
    const home = Deno.makeTempDirSync();
    const party = await startParty(["--demo", "--workers", "2"], { home, stdin: "piped" });
    const steadyLegacy = await RawClient.connect(party.url, { formats: [format("opus")] });
    const steadyEncrypted = await EncryptedClient.connect(party.url, { formats: [format("opus")] });
    let n = 0;
    const speaker = (options: ConstructorParameters<typeof Speaker>[1]) =>
      new Speaker(`Speaker ${++n}`, options);
    /** A speaker whose pairing this step starts: connected, refused, and its number. */
    const arrive = async (s: Speaker) => {
      const client = await s.connect(party.url);
      await assertRefused(client);
      return { client, number: await numberOf(party, s.name) };
    };
    const step = (name: string, fn: () => void | Promise<void>) =>
      t.step(name, () => withConsole(party, fn));
    try {
      await step(
        "a wrong fixed code: the speaker aborts (pairing_code_mismatch); then the right one pairs",
        async () => {
          const s = speaker(fixed());
          const { client, number } = await arrive(s);
          await party.type(`p ${number} 4018-2737`);
          await client.waitFor("its abort", () => client.pairAbortsSent.length === 1);
          assert.deepEqual(client.pairAbortsSent, ["pairing_code_mismatch"]);
          await consoleLine(
            party,
            new RegExp(
              `pairing \\[${number}\\] "${s.name}" ended: it ended the attempt \\(pairing_code_mismatch\\)`,
            ),
          );
          await assertRefused(client);
          await party.type(`p ${number} ${STATIC_CODE}`);
          await assertPlaysPaired(client);
          await s.disconnect();
        },
      );

      await step(
        "a wrong shown code: a new round (client/pair-retry), the same code, then it pairs",
        async () => {
          const s = speaker(dynamic());
          const { client, number } = await arrive(s);
          await party.type(`p ${number}`);
          const code = await client.nextPairingCode();
          const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
          await party.type(`c ${number} ${wrong}`);
          await consoleLine(
            party,
            new RegExp(`"${s.name}" the code did not match \\(try 2 of 20\\)`),
          );
          assert.equal(await client.nextPairingCode(), code, "the same code, shown again");
          await party.type(`c ${number} ${code}`);
          await assertPlaysPaired(client);
          await s.disconnect();
        },
      );

      await step(
        "a tampered client_kc: the server aborts (pairing_code_mismatch), the speaker stays",
        async () => {
          const s = speaker(fixed("client_kc"));
          const { client, number } = await arrive(s);
          await party.type(`p ${number} ${STATIC_CODE}`);
          await client.waitFor("the server's abort", () => client.pairAbortsReceived.length === 1);
          assert.deepEqual(client.pairAbortsReceived, ["pairing_code_mismatch"]);
          await consoleLine(party, new RegExp(`"${s.name}" ended: the code did not match`));
          await assertRefused(client);
          assert.equal(client.closed, undefined);
          assert.equal(client.pairings.length, 0);
          await s.disconnect();
        },
      );

      for (const tamper of ["low_order_share", "wrapped_psk"] as const) {
        await step(
          `a tampered ${tamper} (fixed code) is a protocol error: a silent close`,
          async () => {
            const s = speaker(fixed(tamper));
            const { client, number } = await arrive(s);
            await party.type(`p ${number} ${STATIC_CODE}`);
            await assertClosedSilently(client);
            await consoleLine(
              party,
              new RegExp(`"${s.name}" ended: it broke the pairing protocol`),
            );
          },
        );
      }

      for (const tamper of ["wrapped_nonce", "commit", "future_index", "second_init"] as const) {
        await step(`${tamper} (shown code) is a protocol error: a silent close`, async () => {
          const s = speaker(dynamic(tamper));
          const { client, number } = await arrive(s);
          await party.type(`p ${number}`);
          if (tamper === "wrapped_nonce" || tamper === "commit") {
            await party.type(`c ${number} ${await client.nextPairingCode()}`);
          }
          await assertClosedSilently(client);
        });
      }

      await step("a replayed pairing message closes the connection silently", async () => {
        const s = speaker(fixed());
        const { client, number } = await arrive(s);
        await party.type(`p ${number} ${STATIC_CODE}`);
        await client.waitFor(
          "its pair-auth",
          () => client.messagesOf("server/pair-confirm").length > 0,
        );
        client.replayLastSent();
        await assertClosedSilently(client);
      });

      await step(
        "a speaker holding back, then giving up (attempt_timeout); an operator's cancel",
        async () => {
          const s = speaker({
            pairing: {
              code: { kind: "static", code: STATIC_CODE },
              holdBack: "Press the pairing button",
            },
          });
          const { client, number } = await arrive(s);
          await party.type(`p ${number} ${STATIC_CODE}`);
          await consoleLine(
            party,
            new RegExp(`"${s.name}" holds pairing back .*: "Press the pairing button"`),
          );
          client.abortPairing("attempt_timeout");
          await consoleLine(
            party,
            new RegExp(`"${s.name}" ended: it ended the attempt \\(attempt_timeout\\)`),
          );
          await assertRefused(client);
          await party.type(`p ${number} ${STATIC_CODE}`);
          await client.waitFor(
            "a second pairing activation",
            () => client.activations.filter((a) => String(a.activities) === "pairing").length === 2,
          );
          await party.type(`x ${number}`);
          await client.waitFor(
            "the cancel",
            () => client.pairAbortsReceived.includes("user_cancelled"),
          );
          await consoleLine(party, new RegExp(`"${s.name}" ended: cancelled by you`));
          await assertRefused(client);
          await s.disconnect();
        },
      );

      await step(
        "a client that pairs twice: the new pairing replaces the first record",
        async () => {
          const s = speaker(dynamic());
          const { client, number } = await arrive(s);
          for (let time = 1; time <= 2; time++) {
            await party.type(`p ${number}`);
            await party.type(`c ${number} ${await client.nextPairingCode()}`);
            await client.waitFor(`pairing ${time}`, () => client.pairings.length === time);
            await assertPlaysPaired(client);
          }
          const mine = records(home).filter((r) => r.client_id === client.clientId);
          assert.equal(mine.length, 1, "one record per client");
          await s.disconnect();
          await assertPlaysPaired(await s.connect(party.url)); // under the second PSK
          await s.disconnect();
        },
      );

      await step("two speakers pairing at once both pair", async () => {
        const a = speaker(dynamic());
        const b = speaker(dynamic());
        const first = await arrive(a);
        const second = await arrive(b);
        await party.type(`p ${first.number}`);
        await party.type(`p ${second.number}`);
        const [codeA, codeB] = await Promise.all([
          first.client.nextPairingCode(),
          second.client.nextPairingCode(),
        ]);
        await party.type(`c ${second.number} ${codeB}`);
        await party.type(`c ${first.number} ${codeA}`);
        await Promise.all([assertPlaysPaired(first.client), assertPlaysPaired(second.client)]);
        await a.disconnect();
        await b.disconnect();
      });

      await step(
        "a token for another client is refused in one line; nothing starts",
        async () => {
          const a = speaker({});
          const b = speaker({});
          const first = await arrive(a);
          const second = await arrive(b);
          await party.type(`p ${first.number} ${second.client.pairingToken}`);
          await consoleLine(
            party,
            /that token is for another client \(id .{8}\), not "Speaker \d+"/,
          );
          await assertRefused(first.client);
          await assertRefused(second.client);
          await a.disconnect();
          await b.disconnect();
        },
      );

      await step(
        "a speaker that lost its pairing: the console says so and it pairs again",
        async () => {
          const s = speaker(dynamic());
          const { client, number } = await arrive(s);
          await party.type(`p ${number}`);
          await party.type(`c ${number} ${await client.nextPairingCode()}`);
          await assertPlaysPaired(client);
          await s.disconnect();
          s.psks = { pairing: s.psks.pairing }; // a factory reset forgets the record
          const back = await s.connect(party.url);
          assert.equal(back.matchedPsk, "sentinel-fallback");
          await consoleLine(
            party,
            new RegExp(
              `\\[${number}\\] "${s.name}" \\(id .{8}\\) lost its pairing with this server`,
            ),
          );
          await assertRefused(back);
          await party.type(`p ${number}`);
          await party.type(`c ${number} ${await back.nextPairingCode()}`);
          await assertPlaysPaired(back);
          await s.disconnect();
        },
      );

      await step("the steady listeners lost nothing", () => {
        assertContiguous(steadyLegacy.chunks.map((c) => c.playAtUs), "the legacy listener");
        assertContiguous(steadyEncrypted.chunks.map((c) => c.playAtUs), "the encrypted listener");
        assert.ok(steadyLegacy.chunks.length > 100 && steadyEncrypted.chunks.length > 100);
        assert.equal(steadyLegacy.closed, undefined);
        assert.equal(steadyEncrypted.closed, undefined);
      });
    } finally {
      await steadyLegacy.close();
      await steadyEncrypted.close();
      assert.equal(await party.stop(), 0, party.log());
    }
  },
);
