/**
 * HTTP routes of a worker (GET and HEAD only; the front refuses other methods): the page
 * and its assets, and `/api/status`. WebSocket upgrades of `/sendspin` never get here.
 */
import { Hono } from "hono";
import { serveAsset } from "./static_assets.ts";
import { serveArtwork } from "./artwork/artwork_route.ts";
import { ARTWORK_PREFIX } from "../protocol/artwork_path.ts";
import type { RoomCount } from "../protocol/ipc.ts";

/** What `/api/status` tells: the party's listeners, this room's per worker, every room's. */
export interface PartyStatus {
  total: number;
  /** This room's (this machine's) listeners. */
  here: number;
  perWorker: number[];
  rejected: number;
  rooms?: RoomCount[];
}

export const SENDSPIN_PATH = "/sendspin";

export interface RoutesOptions {
  assetsDir: URL;
  status: () => PartyStatus;
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
    const { total, perWorker, rejected, rooms } = options.status();
    c.header("Access-Control-Allow-Origin", "*");
    c.header("Cache-Control", "no-store");
    return c.json({
      total_clients: total,
      workers: perWorker,
      rejected_messages: rejected,
      // A party over several machines: each room's listeners, per worker.
      ...(rooms
        ? {
          rooms: rooms.map((room) => ({
            name: room.name,
            role: room.role,
            clients: room.total,
            workers: room.perWorker,
            ...(room.clock
              ? {
                clock_error_us: finite(room.clock.errorUs),
                clock_round_trip_us: finite(room.clock.roundTripUs),
              }
              : {}),
          })),
        }
        : {}),
    });
  });
  app.get(`${ARTWORK_PREFIX}:key`, (c) => serveArtwork(c.req.raw, options.artwork));
  app.get("*", (c) => serveAsset(options.assetsDir, c.req.raw));
  return app;
}

/** JSON has no Infinity: an estimate not made yet is null. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value) : null;
}
