import assert from "node:assert/strict";
import { InvalidMessageError, parseClientMessage } from "../../protocol/messages.ts";

const message = (type: string, payload: unknown) => JSON.stringify({ type, payload });

Deno.test("client/state is read in the spec's shape and in sendspin-js 3.2.1's shape", () => {
  assert.deepEqual(
    parseClientMessage(message("client/state", { state: "synchronized", player: { volume: 30 } })),
    { type: "client/state", player: { state: "synchronized", volume: 30 } },
  );
  assert.deepEqual(
    parseClientMessage(message("client/state", {
      player: { state: "error", volume: 80, muted: true, static_delay_ms: 0, extra: 1 },
    })),
    { type: "client/state", player: { state: "error", volume: 80, muted: true } },
  );
});

Deno.test("client/hello keeps the formats we know and skips unknown codecs", () => {
  const parsed = parseClientMessage(message("client/hello", {
    client_id: "a",
    name: "Phone",
    version: 1,
    supported_roles: ["player@v1"],
    "player@v1_support": {
      supported_formats: [
        { codec: "aac", sample_rate: 48000, channels: 2, bit_depth: 16 },
        { codec: "pcm", sample_rate: 44100, channels: 2, bit_depth: 16 },
      ],
      buffer_capacity: 1000,
      supported_commands: ["volume"],
    },
  }));
  assert.equal(parsed.type, "client/hello");
  if (parsed.type !== "client/hello") return;
  assert.deepEqual(parsed.hello.player_support?.supported_formats, [
    { codec: "pcm", sample_rate: 44100, channels: 2, bit_depth: 16 },
  ]);
});

Deno.test("malformed messages are rejected with a reason naming the value", () => {
  const bad = [
    "not json",
    "[]",
    message("client/time", { client_transmitted: "soon" }),
    message("client/hello", { client_id: 5, supported_roles: [] }),
    message("client/hello", { client_id: "a", supported_roles: "player" }),
    message("client/command", { controller: { command: "mute", mute: "yes" } }),
    message("stream/request-format", { player: { sample_rate: -1 } }),
    message("server/hello", {}),
  ];
  for (const text of bad) {
    assert.throws(() => parseClientMessage(text), InvalidMessageError, text);
  }
});
