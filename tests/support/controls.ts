/** What a player and a controller were told, from a RawClient's messages. */
import type { RawClient } from "./raw_client.ts";

/** The last value a player was told for `command` (server/command player). */
export function told(client: RawClient, command: "volume" | "mute"): unknown {
  const commands = client.messagesOf("server/command")
    .map((m) => m.payload.player as Record<string, unknown>)
    .filter((p) => p?.command === command);
  return commands.at(-1)?.[command === "volume" ? "volume" : "mute"];
}

/** The controller state a controller was sent last. */
export const lastController = (client: RawClient) =>
  client.messagesOf("server/state").map((m) => m.payload.controller as Record<string, unknown>)
    .filter(Boolean).at(-1);
