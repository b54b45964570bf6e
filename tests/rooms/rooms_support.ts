/**
 * What the rooms tests share: a party over a real `nats-server` (origin and edges as real
 * processes, started as a user starts them), and a server clock measured from the test.
 */
import { RawClient } from "../support/raw_client.ts";
import { type PartyProcess, startEdge, startParty } from "../support/party_process.ts";
import { type NatsServer, startNatsServer, whyNoNatsServer } from "../support/nats_server.ts";
import { ignoreUnless } from "../support/skip.ts";

const why = await whyNoNatsServer();
/** Deno.test options: ignored, with the reason printed once, where nats-server is missing. */
export const needsNats = { ignore: ignoreUnless(!why, `the rooms (NATS) tests: ${why}`) };

export { startEdge, startNatsServer, startParty };
export type { NatsServer, PartyProcess };

/**
 * The offset of a server's clock from ours, from the fastest of many time probes over
 * loopback: what the server's listeners are told its time is.
 */
export async function clockOffsetUs(
  baseUrl: string,
  probes = 60,
): Promise<{ offsetUs: number; rttUs: number }> {
  const client = await RawClient.connect(baseUrl, {
    formats: [{ codec: "pcm", channels: 2, sample_rate: 48000, bit_depth: 16 }],
  });
  try {
    await client.waitFor(
      "server/hello",
      () => client.messages.some((m) => m.type === "server/hello"),
    );
    let best = { offsetUs: 0, rttUs: Infinity };
    for (let i = 0; i < probes; i++) {
      const answer = client.next("server/time");
      const t1 = performance.now() * 1000;
      client.send("client/time", { client_transmitted: Math.round(t1) });
      const { payload, arrivedUs: t4 } = await answer;
      const { server_received: t2, server_transmitted: t3 } = payload as {
        server_received: number;
        server_transmitted: number;
      };
      const rttUs = t4 - t1 - (t3 - t2);
      if (rttUs < best.rttUs) best = { offsetUs: (t2 - t1 + t3 - t4) / 2, rttUs };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return best;
  } finally {
    await client.close();
  }
}

export async function status(baseUrl: string): Promise<Record<string, unknown>> {
  const response = await fetch(new URL("/api/status", baseUrl));
  return await response.json();
}
