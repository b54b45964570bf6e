import { OriginClock } from "../../coordinator/rooms/origin_clock.ts";
import { connectNats } from "../../coordinator/rooms/nats_connection.ts";
import { localNowUs } from "../../protocol/clock.ts";
import { startDelayRelay } from "../support/delay_relay.ts";
import { clockOffsetUs } from "./rooms_support.ts";
const relay = startDelayRelay({ host: "127.0.0.1", port: 14333 }, {
  delayMs: Number(Deno.args[0]),
  jitterMs: Number(Deno.args[1]),
});
const nc = await connectNats({ servers: [`127.0.0.1:${relay.port}`], display: "x" }, "probe");
const hello = (await nc.request("sendspin.party.rUOqLrhf.hello", "")).json<{ timeline: string }>();
const clock = new OriginClock();
const probe = async () => {
  const r = await nc.request("sendspin.party.rUOqLrhf.clock", undefined, { timeout: 2000 });
  return {
    originUs: new DataView(r.data.buffer, r.data.byteOffset).getFloat64(0),
    timeline: r.headers!.get("Sendspin-Timeline"),
  };
};
for (let i = 0; i < 6; i++) {
  await clock.burst(probe, hello.timeline);
  const truth = await clockOffsetUs("http://127.0.0.1:18001/", 40); // origin - ours
  const est = clock.nowUs() - localNowUs();
  console.log(
    `burst ${i}: est-truth ${
      (est - truth.offsetUs).toFixed(0)
    } us, rtt ${clock.roundTripUs}, err ${clock.errorUs}, truth rtt ${truth.rttUs.toFixed(0)}`,
  );
}
await nc.close();
await relay.close();
