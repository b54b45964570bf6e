/**
 * What the rooms tests share: a party over a real `nats-server` (origin and edges as real
 * processes, started as a user starts them), and a server clock measured from the test.
 */
import { format, RawClient } from "../support/raw_client.ts";
import { clockOffsetUs as probeClock } from "../support/clock_probe.ts";
import { type PartyProcess, startEdge, startParty } from "../support/party_process.ts";
import { type NatsServer, startNatsServer, whyNoNatsServer } from "../support/nats_server.ts";
import { ignoreUnless } from "../support/skip.ts";

const why = await whyNoNatsServer();
/** Deno.test options: ignored, with the reason printed once, where nats-server is missing. */
export const needsNats = { ignore: ignoreUnless(!why, `the rooms (NATS) tests: ${why}`) };

export { startEdge, startNatsServer, startParty };
export type { NatsServer, PartyProcess };

/** The offset of a server's clock from ours, measured over loopback by a listener of its own. */
export async function clockOffsetUs(baseUrl: string): Promise<{ offsetUs: number; rttUs: number }> {
  const client = await RawClient.connect(baseUrl, { formats: [format("pcm")] });
  try {
    await client.waitFor("server/hello", () => client.messagesOf("server/hello").length > 0);
    return await probeClock(client);
  } finally {
    await client.close();
  }
}

export async function status(baseUrl: string): Promise<Record<string, unknown>> {
  const response = await fetch(new URL("/api/status", baseUrl));
  return await response.json();
}
