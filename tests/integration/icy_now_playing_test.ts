/**
 * An internet radio's stream titles on the wire: an ICY stream (MP3 with `icy-metaint`, as
 * stations send it) whose StreamTitle changes reaches metadata clients as a new title and
 * artist, told when the audio after the change is heard, never before.
 */
import assert from "node:assert/strict";
import { ffmpeg, hasFfmpeg, tempDir } from "../coordinator/decode/helpers.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: it makes the station's MP3");
const opts = { sanitizeOps: false, sanitizeResources: false, ignore };
const METAINT = 8_192;

/** One ICY metadata block: its length in 16-byte units, then the text, zero-padded. */
function icyBlock(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const units = Math.ceil(bytes.length / 16);
  const out = new Uint8Array(1 + units * 16);
  out[0] = units;
  out.set(bytes, 1);
  return out;
}

Deno.test("an ICY station's new StreamTitle is told when it is heard", opts, async () => {
  const dir = await tempDir();
  await ffmpeg([
    ...["-f", "lavfi", "-i", "sine=f=440:r=44100:d=30", "-ac", "2", "-b:a", "128k"],
    `${dir.path}/station.mp3`,
  ]);
  const mp3 = await Deno.readFile(`${dir.path}/station.mp3`);
  // About 2.5 s of audio under the first title, then the second for the rest.
  const changeAt = Math.floor(((128_000 / 8) * 2.5) / METAINT);
  const station = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const icy = request.headers.get("icy-metadata") === "1";
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let block = 0, at = 0; at < mp3.length; block++, at += METAINT) {
          controller.enqueue(mp3.subarray(at, at + METAINT));
          if (!icy) continue;
          const title = block < changeAt ? "First Band - First Song" : "Second Band - Second Song";
          const text = block === 0 || block === changeAt ? `StreamTitle='${title}';` : "";
          controller.enqueue(icyBlock(text));
        }
        controller.close();
      },
    });
    const headers: Record<string, string> = { "content-type": "audio/mpeg" };
    if (icy) headers["icy-metaint"] = String(METAINT);
    return new Response(body, { headers });
  });
  const url = `http://127.0.0.1:${station.addr.port}/stream.mp3`;
  const server = await startServer({ source: { kind: "url", url } });
  const client = await RawClient.connect(server.url, {
    formats: [format("pcm")],
    roles: ["player@v1", "metadata@v1"],
  });
  try {
    type Heard = { title: unknown; artist: unknown; timestamp: number; arrivedUs: number };
    const heard = (): Heard[] =>
      client.messages.flatMap((m, i) =>
        m.type === "server/state" && m.payload.metadata
          ? [{ ...(m.payload.metadata as Heard), arrivedUs: client.arrivals[i] }]
          : []
      );
    await client.waitFor("the second title", () => heard().some((m) => m.title === "Second Song"), {
      ms: 20_000,
      seen: () => JSON.stringify(heard()),
    });
    const first = heard().find((m) => m.title === "First Song")!;
    const second = heard().find((m) => m.title === "Second Song")!;
    assert.equal(first.artist, "First Band");
    assert.equal(second.artist, "Second Band");
    assert.ok(second.timestamp > first.timestamp, "the new title is for later audio");
    // Told when the audio after the change is heard (this process shares the server's clock).
    assert.ok(second.arrivedUs >= second.timestamp, "the new title was told early");
  } finally {
    await client.close();
    await server.stop();
    await station.shutdown();
    await dir.remove();
  }
});
