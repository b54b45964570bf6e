/**
 * `sendspin edge NATS_URL`: a room of someone else's party. It serves this machine's guests
 * (its own page, QR code, mDNS and workers) with the origin's timeline and clock, which it
 * gets over NATS, and counts its guests into the party's.
 */
import { hostname } from "node:os";
import { Logger } from "../protocol/log.ts";
import type { EdgeConfig } from "./config.ts";
import { Room, type RoomOptions, ServeError } from "./room.ts";
import { EdgeLink } from "./rooms/edge_link.ts";
import { NatsUnavailableError } from "./rooms/nats_connection.ts";
import { OriginClock } from "./rooms/origin_clock.ts";

export async function edge(config: EdgeConfig, options: RoomOptions): Promise<void> {
  const log = new Logger(config.logLevel);
  const clock = new OriginClock();
  let link: EdgeLink | undefined;
  // The room's name is the party's with this host's, unless given: known once we found it.
  const roomConfig = { ...config };
  const room = { name: config.name, role: "edge" as const, clock: () => link?.clockReport() };
  const here = new Room(roomConfig, options, {
    clock,
    room,
    onTotal: () => {}, // the origin plays while anyone anywhere listens
    onCommand: (command, clientId) => link?.command(command, clientId),
    onGroupVolume: (change) => link?.groupVolume(change),
    onRoomChange: () => link?.roomChanged(),
  });
  try {
    link = await EdgeLink.open({
      target: config.origin,
      ...(config.party ? { party: config.party } : {}),
      id: here.shortId,
      clock,
      log,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof NatsUnavailableError) throw new ServeError(error.message);
    throw error;
  }
  if (!link) return; // Ctrl+C while waiting for the party
  if (!config.nameGiven) {
    room.name = roomConfig.name = `${link.partyName} (${hostname()})`;
  }
  const ms = (us: number) => (us / 1000).toFixed(2);
  try {
    await here.open([
      `An edge of party "${link.partyName}" (${link.hello.party}), from NATS at ${config.origin.display}.`,
      `Clock: the origin's, to within ${ms(clock.errorUs)} ms so far (round trip ${
        ms(clock.roundTripUs)
      } ms).`,
    ]);
    await link.attach(here.pool, roomConfig.name);
  } catch (error) {
    await link.close();
    throw error;
  }
  log.info(`Playing party "${link.partyName}" from its origin whenever it plays`);

  const stopped = new Promise<"stop">((resolve) => {
    if (options.signal.aborted) resolve("stop");
    options.signal.addEventListener("abort", () => resolve("stop"), { once: true });
  });
  const why = await Promise.race([stopped, here.noneLeft.then(() => "no workers" as const)]);
  if (why === "stop") log.info("Shutting down...");
  await here.close(() => link.close());
  if (why === "no workers") {
    throw new ServeError("every worker keeps crashing: nobody can listen, so the edge stops");
  }
}
