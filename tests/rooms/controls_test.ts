/**
 * Controllers in one room control the whole party: the group volume set on an edge reaches
 * the players at the origin (and its controllers show it), mute set at the origin reaches
 * the edge, and a pause
 * sent on an edge pauses the party for everyone.
 */
import assert from "node:assert/strict";
import { format, RawClient } from "../support/raw_client.ts";
import { lastController, told } from "../support/controls.ts";
import { needsNats, startEdge, startNatsServer, startParty } from "./rooms_support.ts";

Deno.test({
  name:
    "an edge's controller sets the party's volume and pauses it for every room; the origin's mute reaches the edge",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    const origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url]);
    const edge = await startEdge(nats.url);
    const guest = (url: string, name: string) =>
      RawClient.connect(url, {
        formats: [format("pcm")],
        roles: ["player@v1", "controller@v1"],
        name,
      });
    const atOrigin = await guest(origin.url, "origin guest");
    const atEdge = await guest(edge.url, "edge guest");
    try {
      await atOrigin.waitFor("audio at the origin", () => atOrigin.chunks.length > 5);
      await atEdge.waitFor("audio at the edge", () => atEdge.chunks.length > 5);
      atEdge.send("client/command", { controller: { command: "volume", volume: 30 } });
      await atOrigin.waitFor("the origin's player told", () => told(atOrigin, "volume") === 30);
      await atEdge.waitFor("the edge's player told", () => told(atEdge, "volume") === 30);
      await atOrigin.waitFor(
        "the origin's controller shows it",
        () => lastController(atOrigin)?.volume === 30,
      );
      atOrigin.send("client/command", { controller: { command: "mute", mute: true } });
      await atEdge.waitFor("the edge's player muted", () => told(atEdge, "mute") === true);

      atEdge.send("client/command", { controller: { command: "pause" } });
      await atOrigin.waitFor(
        "the origin's stream ends",
        () => atOrigin.messagesOf("stream/end").length > 0,
      );
      await atEdge.waitFor(
        "the edge's stream ends",
        () => atEdge.messagesOf("stream/end").length > 0,
      );
      assert.match(origin.log(), /Controller: pause/);
    } finally {
      await atOrigin.close();
      await atEdge.close();
      await edge.stop();
      await origin.stop();
      await nats.stop();
    }
  },
});
