/**
 * HTTP routes of a worker (GET and HEAD only; the front refuses other methods): the page
 * and its assets, and `/api/status`. WebSocket upgrades of `/sendspin` never get here.
 */
import { Hono } from "hono";
import { serveAsset } from "./static_assets.ts";
import { serveArtwork } from "./artwork/artwork_route.ts";
import { ARTWORK_PREFIX } from "../protocol/artwork_path.ts";

export const SENDSPIN_PATH = "/sendspin";

export interface RoutesOptions {
  assetsDir: URL;
  /** Listeners across all workers, and per worker. */
  status: () => { total: number; perWorker: number[]; rejected: number };
  /** The cover named `key` (the end of a now-playing's artworkPath), if this worker holds it. */
  artwork?: (key: string) => { mime: string; bytes: Uint8Array } | undefined;
}

export function createRoutes(options: RoutesOptions): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    console.error(`request ${c.req.method} ${c.req.path} failed: ${error.message}`);
    return c.text("Internal error", 500);
  });
  app.get(
    SENDSPIN_PATH,
    (c) => c.text("This is the Sendspin WebSocket endpoint: connect with a Sendspin client.", 426),
  );
  app.get("/api/status", (c) => {
    const { total, perWorker, rejected } = options.status();
    c.header("Access-Control-Allow-Origin", "*");
    c.header("Cache-Control", "no-store");
    return c.json({ total_clients: total, workers: perWorker, rejected_messages: rejected });
  });
  app.get(`${ARTWORK_PREFIX}:key`, (c) => serveArtwork(c.req.raw, options.artwork));
  app.get("*", (c) => serveAsset(options.assetsDir, c.req.raw));
  return app;
}
