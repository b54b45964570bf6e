/**
 * One listener in a process of its own, for telling the server's time-answer delay from the
 * load generator's: it joins (legacy or encrypted), waits `--delay` seconds, then sends a
 * `client/time` every 20 ms for `--seconds` and prints its round trips and the server's own
 * time between reading the probe and sending the answer (server_transmitted -
 * server_received). Run it beside a loaded generator: the generator's listeners see their
 * own event loop's delay on top of the server's, this one sees (almost) only the server's.
 *
 *   deno run --allow-net=127.0.0.1 tests/bench/probe_listener.ts --url ws://127.0.0.1:PORT/sendspin
 *            [--dialect legacy|encrypted] [--suite 25519_ChaChaPoly_SHA256] [--delay 4] [--seconds 6]
 */
import { parseArgs } from "node:util";
import { clientHello } from "../support/encrypted/behaviour.ts";
import { WsClient } from "../support/ws_client.ts";
import { EncryptedLink, newIdentity, type TestSuiteName } from "./encrypted_link.ts";
import { percentile } from "./stats.ts";

const FORMAT = { codec: "opus" as const, sample_rate: 48_000, channels: 2, bit_depth: 16 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowUs = () => performance.now() * 1000;

interface TimeAnswer {
  client_transmitted: number;
  server_received: number;
  server_transmitted: number;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      dialect: { type: "string", default: "legacy" },
      suite: { type: "string", default: "25519_ChaChaPoly_SHA256" },
      delay: { type: "string", default: "4" },
      seconds: { type: "string", default: "6" },
    },
  });
  if (!values.url) throw new Error("--url ws://host:port/sendspin is required");
  await sleep(Number(values.delay) * 1000);
  const rttsMs: number[] = [];
  const serverMs: number[] = [];
  let inFlight = NaN;
  const answered = (answer: TimeAnswer, arrivedUs: number) => {
    if (answer.client_transmitted !== inFlight) return;
    rttsMs.push((arrivedUs - inFlight) / 1000);
    serverMs.push((answer.server_transmitted - answer.server_received) / 1000);
  };
  const ready = Promise.withResolvers<void>();
  let sendProbe: (payload: { client_transmitted: number }) => void;
  if (values.dialect === "encrypted") {
    const link: EncryptedLink = await EncryptedLink.connect(
      values.url,
      newIdentity(),
      values.suite as TestSuiteName,
      {
        onJson: ({ type, payload }, arrivedUs) => {
          if (type === "server/time") answered(payload as unknown as TimeAnswer, arrivedUs);
          if (type === "server/hello") {
            link.sendJson(
              "client/hello",
              clientHello({ name: "probe", formats: [FORMAT] }, [
                "player@v1",
              ]),
            );
          }
          if (type === "server/activate") {
            link.sendJson("client/state", {
              available: true,
              player: { volume: 100, muted: false, output_delay_ms: 0, supported_commands: [] },
            });
            ready.resolve();
          }
        },
        onBinary: () => {},
        onClose: (reason) => ready.reject(new Error(reason)),
      },
    );
    sendProbe = (payload) => link.sendJson("client/time", payload);
  } else {
    const socket = await WsClient.connect(values.url, {
      onText: (text, arrivedUs) => {
        const { type, payload } = JSON.parse(text);
        if (type === "server/time") answered(payload, arrivedUs);
        if (type === "server/hello") ready.resolve();
      },
      onBinary: () => {},
      onClose: (reason) => ready.reject(new Error(reason)),
    });
    socket.sendText(JSON.stringify({
      type: "client/hello",
      payload: {
        client_id: "probe",
        name: "probe",
        version: 1,
        supported_roles: ["player@v1"],
        "player@v1_support": {
          supported_formats: [FORMAT],
          buffer_capacity: 5 * 1024 * 1024,
          supported_commands: [],
        },
      },
    }));
    sendProbe = (payload) => socket.sendText(JSON.stringify({ type: "client/time", payload }));
  }
  await ready.promise;
  await sleep(1_000);
  const end = performance.now() + Number(values.seconds) * 1000;
  while (performance.now() < end) {
    inFlight = Math.round(nowUs());
    sendProbe({ client_transmitted: inFlight });
    await sleep(20);
  }
  const ms = (values: number[], p: number) => Number(percentile(values, p).toFixed(2));
  console.log(JSON.stringify({
    dialect: values.dialect,
    probes: rttsMs.length,
    rttMs: { p50: ms(rttsMs, 50), p99: ms(rttsMs, 99), max: ms(rttsMs, 100) },
    serverMs: { p50: ms(serverMs, 50), p99: ms(serverMs, 99) },
  }));
  Deno.exit(0);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`probe listener: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  });
}
