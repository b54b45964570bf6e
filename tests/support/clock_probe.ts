/**
 * A server's clock as its listeners see it: the offset of its `server/time` from ours, from
 * the fastest of many time probes (its round trip bounds the error).
 */
import type { RawClient } from "./raw_client.ts";

/**
 * `now`: the clock to measure against, in µs; default this process's (performance.now),
 * with each answer stamped on arrival.
 */
export async function clockOffsetUs(
  client: RawClient,
  options: { probes?: number; now?: () => number } = {},
): Promise<{ offsetUs: number; rttUs: number }> {
  const { probes = 60, now } = options;
  let best = { offsetUs: 0, rttUs: Infinity };
  for (let i = 0; i < probes; i++) {
    const answer = client.next("server/time");
    const t1 = now ? now() : performance.now() * 1000;
    client.send("client/time", { client_transmitted: Math.round(performance.now() * 1000) });
    const { payload, arrivedUs } = await answer;
    const t4 = now ? now() : arrivedUs;
    const { server_received: t2, server_transmitted: t3 } = payload as {
      server_received: number;
      server_transmitted: number;
    };
    const rttUs = t4 - t1 - (t3 - t2);
    if (rttUs < best.rttUs) best = { offsetUs: (t2 - t1 + t3 - t4) / 2, rttUs };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return best;
}
