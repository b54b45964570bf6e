/**
 * The encrypted dialect end to end, against `sendspin serve --demo` as a real process on
 * port 0, for each suite on 1 and 2 workers: the handshake, `server/activate` with playback,
 * contiguous audio in PCM, FLAC and Opus (FLAC decoded bit for bit against the PCM), a
 * plausible `send_ahead`, time answers, and one identity on every worker. The client is the
 * test side's own (tests/support/encrypted), on other crypto than the server's.
 */
import assert from "node:assert/strict";
import { type AudioFormat, EncryptedClient } from "../support/encrypted/client.ts";
import { decodeFlac } from "../support/flac_decode.ts";
import { startParty } from "../support/party_process.ts";
import { untilValue } from "../support/until.ts";
import { RawClient } from "../support/raw_client.ts";

const CHUNK_US = 60_000;
const opts = { sanitizeOps: false, sanitizeResources: false };
const f = (codec: AudioFormat["codec"]): AudioFormat => ({
  codec,
  sample_rate: 48_000,
  channels: 2,
  bit_depth: 16,
});
const SUITES = ["25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA256"] as const;

function assertContiguous(client: EncryptedClient, what: string) {
  const stamps = client.chunks.map((c) => c.playAtUs);
  for (let i = 1; i < stamps.length; i++) {
    const around = client.chunks.slice(Math.max(0, i - 3), i + 3).map((c) =>
      `${c.playAtUs} (arrived ${c.arrivedUs.toFixed(0)})`
    );
    assert.equal(
      stamps[i] - stamps[i - 1],
      CHUNK_US,
      `${what}: step at chunk ${i}: ${around.join(", ")}; ${client.describe()}`,
    );
  }
}

for (const suite of SUITES) {
  for (const workers of [1, 2]) {
    Deno.test(
      `encrypted ${suite} on --workers ${workers}: plays pcm, flac and opus`,
      opts,
      async () => {
        const party = await startParty(["--demo", "--workers", String(workers)]);
        const clients: EncryptedClient[] = [];
        // Playback starts with the first listener; the encrypted ones join a party in full swing
        // (the first 250 ms of a fresh timeline are the tightest moment for a loaded machine).
        const warmUp = await RawClient.connect(party.url, { formats: [f("pcm")] });
        try {
          await warmUp.waitFor("the party plays", () => warmUp.chunks.length > 20);
          const codecs = ["pcm", "flac", "opus", "pcm", "flac", "opus"] as const;
          for (const codec of codecs) {
            clients.push(await EncryptedClient.connect(party.url, { suite, formats: [f(codec)] }));
          }
          const status = await untilValue(
            "every client counted",
            async () => await (await fetch(new URL("/api/status", party.url))).json(),
            (s) => s.total_clients === clients.length + 1,
          );
          // One identity: the same server_id from every worker, its short form in the banner.
          assert.equal(new Set(clients.map((c) => c.serverId)).size, 1);
          assert.match(clients[0].serverId, /^[A-Za-z0-9_-]{43}$/);
          assert.match(party.output(), new RegExp(`Server id ${clients[0].serverId.slice(0, 8)}`));
          assert.equal(status.workers.length, workers);
          for (const [i, client] of clients.entries()) {
            assert.equal(client.matchedPsk, "sn", "an unpaired client: the Sentinel PSK");
            assert.deepEqual(client.activations[0], {
              activities: ["playback"],
              active_roles: ["player@v1", "controller@v1", "metadata@v1"],
            });
            await client.waitFor("40 chunks", () => client.chunks.length >= 40);
            assert.deepEqual(client.faults, [], client.describe());
            assertContiguous(client, `${suite}, listener ${i} (${codecs[i]})`);
            const start = client.messagesOf("stream/start")[0].payload;
            assert.equal(typeof start.server_transmitted, "number", "stream/start is stamped");
          }
          // send_ahead: stamped as the chunk was sealed, so it is its lead when sent: at least
          // its lead on arrival (in server time), and more only by the trip and the time this
          // test process took to read it (it decrypts in pure JS).
          const [pcm] = clients;
          const { offsetUs, rttUs } = await pcm.timeProbes(8);
          assert.ok(rttUs < 50_000, `time answers come back (${rttUs} µs)`);
          const seen = pcm.chunks.length;
          const later = await untilValue(
            "fresh chunks",
            () => pcm.chunks.length,
            (n) => n >= seen + 10,
          );
          for (const chunk of pcm.chunks.slice(later - 10, later)) {
            const leadUs = chunk.playAtUs - (chunk.arrivedUs + offsetUs);
            const what = `send_ahead ${chunk.sendAheadUs} µs vs lead on arrival ${
              leadUs.toFixed(0)
            } µs`;
            assert.ok(chunk.sendAheadUs > 0 && chunk.sendAheadUs < 5_200_000, what);
            assert.ok(chunk.sendAheadUs >= leadUs - rttUs - 2_000, what);
            assert.ok(chunk.sendAheadUs <= leadUs + 250_000, what);
          }
          // FLAC is lossless: decoded, it is the PCM listeners' samples at the same timestamps.
          const flac = clients[1];
          const header = (flac.messagesOf("stream/start")[0].payload.player as {
            codec_header: string;
          }).codec_header;
          const flacChunks = flac.chunks.slice(0, 30);
          const decoded = await decodeFlac(header, flacChunks.map((c) => c.payload));
          const pcmAt = new Map(pcm.chunks.map((c) => [c.playAtUs, c.payload]));
          flacChunks.forEach((chunk, i) => {
            const want = pcmAt.get(chunk.playAtUs);
            if (!want) return; // the PCM client joined after this chunk
            const got = decoded.subarray(i * 5_760, (i + 1) * 5_760);
            const samples = new Int16Array(want.slice().buffer);
            assert.deepEqual(got, samples, `FLAC chunk at ${chunk.playAtUs} µs`);
          });
          assert.ok(flacChunks.some((c) => pcmAt.has(c.playAtUs)), "FLAC and PCM overlap");
          const opus = clients[2];
          assert.equal(
            (opus.messagesOf("stream/start")[0].payload.player as AudioFormat).codec,
            "opus",
          );
        } finally {
          await Promise.all(clients.map((c) => c.close()));
          assert.equal(await party.stop(), 0, party.log());
        }
      },
    );
  }
}
