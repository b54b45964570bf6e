/** HTTP routes of a worker: the page and its assets, `/api/status`, and `/sendspin`. */
import { Hono } from "hono";
import type { GroupPort } from "./session.ts";
import { acceptSendspin } from "./websocket_adapter.ts";
import { serveAsset } from "./static_assets.ts";

export interface RoutesOptions {
  group: GroupPort;
  assetsDir: URL;
  /** Listeners across all workers, and per worker. */
  status: () => { total: number; perWorker: number[]; rejected: number };
}

export function createRoutes(options: RoutesOptions): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    console.error(`request ${c.req.method} ${c.req.path} failed: ${error.message}`);
    return c.text("Internal error", 500);
  });
  app.get("/sendspin", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.text(
        "This is the Sendspin WebSocket endpoint: connect with a Sendspin client.",
        426,
      );
    }
    return acceptSendspin(c.req.raw, options.group);
  });
  app.get("/api/status", (c) => {
    const { total, perWorker, rejected } = options.status();
    c.header("Access-Control-Allow-Origin", "*");
    c.header("Cache-Control", "no-store");
    return c.json({ total_clients: total, workers: perWorker, rejected_messages: rejected });
  });
  app.on(["GET", "HEAD"], "*", (c) => serveAsset(options.assetsDir, c.req.raw));
  app.all("*", (c) => c.text("Method not allowed", 405, { Allow: "GET, HEAD" }));
  return app;
}
