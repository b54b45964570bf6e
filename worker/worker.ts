/**
 * A worker: one HTTP/WebSocket server playing the coordinator's chunks with the
 * coordinator's timestamps. It reads commands from `input` and reports on `output`; the same
 * code runs inside the coordinator (`--workers 1`) and as a subprocess (stdin/stdout).
 */
import { pathToFileURL } from "node:url";
import { type DownMessage, HEARTBEAT_INTERVAL_MS, type UpMessage } from "../protocol/ipc.ts";
import { Logger } from "../protocol/log.ts";
import type { WorkerConfig, WorkerIo } from "../protocol/worker_config.ts";
import { CoordinatorClock } from "./coordinator_clock.ts";
import { Group, PACE_INTERVAL_MS } from "./group.ts";
import { type Front, listen } from "./edge/http_front.ts";
import { createRoutes, type PartyStatus, SENDSPIN_PATH } from "./http.ts";
import { acceptSendspin, type DialectContext } from "./dialects/accept.ts";
import { identityFromPrivateKey } from "./dialects/encrypted/identity.ts";
import { Admission } from "./admission.ts";
import type { Session } from "./session.ts";
import { decodeBase64Url } from "../protocol/noise/base64url.ts";
import { encodeBase64Url } from "../protocol/noise/base64url.ts";
import { PairingService } from "./pairing/pairing_service.ts";
import { UpLink } from "./up_link.ts";
import { keepDialling } from "./listening_client.ts";
import { ArtworkRole } from "./artwork/artwork_role.ts";

/** The longest the command loop runs before it lets the event loop serve the sockets. */
const BUSY_SLICE_MS = 1;

export async function runWorker(config: WorkerConfig, io: WorkerIo): Promise<void> {
  const { index } = config;
  const log = io.log ?? new Logger(config.logLevel, `[W${index}] `);
  const up = new UpLink(io.output);
  const report = (message: UpMessage) => up.send(message);
  // From the first moment: the coordinator tells a busy worker from a hung one by these.
  const heartbeat = setInterval(
    () => report({ type: "alive", worker: index }),
    HEARTBEAT_INTERVAL_MS,
  );
  let totals: Omit<Extract<DownMessage, { type: "totals" }>, "type"> = {
    total: 0,
    perWorker: [],
    rejected: 0,
  };
  let reportedRejected = 0;
  let rejectReport: ReturnType<typeof setTimeout> | undefined;
  const reportCounts = () => {
    clearTimeout(rejectReport);
    rejectReport = undefined;
    reportedRejected = group.rejectedMessages;
    report({
      type: "listeners",
      worker: index,
      count: group.sessions.size,
      rejected: reportedRejected,
    });
  };
  const stop = new AbortController();
  const calibrated = io.clock
    ? undefined
    : new CoordinatorClock((sentUs) =>
      up.send({ type: "clock-probe", worker: index, sentUs }, { now: true })
    );
  const clock = io.clock ?? calibrated!;
  // The pace timer runs only while someone listens: an idle worker does not wake up.
  let paceTimer: ReturnType<typeof setInterval> | undefined;
  const pace = (on: boolean) => {
    if (on && !paceTimer) {
      paceTimer = setInterval(() => group.flush(), PACE_INTERVAL_MS);
    } else if (!on && paceTimer) {
      clearInterval(paceTimer);
      paceTimer = undefined;
    }
  };
  const admission = new Admission(config.guests, config.approved);
  /** Every connected client's sessions (listening, waiting or pairing), by client id. */
  const connected = new Map<string, Set<Session>>();
  const pairings = new PairingService({
    sessionsOf: (clientId) => [...connected.get(clientId) ?? []],
    report: (clientId, name, stage, detail, psk) =>
      report({
        type: "pairing",
        worker: index,
        clientId,
        name,
        stage,
        ...(detail !== undefined ? { detail } : {}),
        ...(psk ? { psk: encodeBase64Url(psk) } : {}),
      }),
    log,
  });
  pairings.setRecords(config.pairings);
  const artwork = new ArtworkRole(clock, log);
  const clientOf = (session: Session) => ({
    trust: session.connection.trust,
    clientId: session.clientId,
    unpairedAccess: session.hello?.unpaired_access,
  });
  const group = new Group({
    serverId: config.serverId,
    name: config.name,
    clock,
    log,
    encoderOptions: { opusBitrate: config.opusBitrate },
    artwork,
    // --max-clients is what this machine holds: other rooms' guests do not count here.
    hasRoom: (): boolean => status().here < config.maxClients,
    // Refusals are reported at most once a second: a flood must not flood the coordinator too.
    onRejected: () => rejectReport ??= setTimeout(reportCounts, 1_000),
    recordsClients: config.recordClients,
    onMembership: (session, joined, count) => {
      pace(count > 0);
      const summary = joined ? undefined : session.record?.summary();
      if (summary) report({ type: "client-summary", worker: index, summary });
      const { clientId, displayName: name } = session;
      if (joined) {
        const trust = admission.mark(clientOf(session));
        const pairMethods = session.hello?.pair_offer?.methods ?? [];
        report({ type: "client-joined", worker: index, clientId, name, trust, pairMethods });
      } else if (!session.pairing) report({ type: "client-left", worker: index, clientId, name });
      reportCounts();
    },
    admits: (session) => !session.pairing && admission.admits(clientOf(session)),
    onCommand: (session, command) =>
      report({ type: "command", worker: index, clientId: session.clientId, command }),
    onGroupVolume: (change) => report({ type: "group-volume", worker: index, ...change }),
    onPlayers: (players) => report({ type: "players", worker: index, ...players }),
    onWaiting: (session, waiting) => {
      const { clientId, displayName: name } = session;
      // One that stops waiting either plays (and says so) or leaves.
      const needs = session.hello?.unpaired_access === false ? "pairing" : "approval";
      const pairMethods = session.hello?.pair_offer?.methods ?? [];
      if (waiting) {
        report({ type: "client-waiting", worker: index, clientId, name, needs, pairMethods });
      } else if (!session.admitted && !session.pairing) {
        report({ type: "client-left", worker: index, clientId, name });
      }
    },
  });
  stop.signal.addEventListener("abort", () => group.party.stop());
  const dialects: DialectContext = {
    group,
    identity: identityFromPrivateKey(decodeBase64Url(config.identityKey, { byteLength: 32 })),
    legacy: config.legacy,
    pskFor: (clientId) => pairings.pskFor(clientId),
    onCredentialMismatch: (clientId) =>
      report({ type: "pairing", worker: index, clientId, name: "", stage: "lost" }),
    onSession: (session) => {
      // Known by id once it said hello; gone with its connection.
      session.onGone(() => {
        // A client that was pairing is neither a listener nor waiting: say it left here.
        if (session.pairing) {
          const { clientId, displayName: name } = session;
          report({ type: "client-left", worker: index, clientId, name });
        }
        const sessions = connected.get(session.clientId);
        sessions?.delete(session);
        if (sessions?.size === 0) connected.delete(session.clientId);
      });
      session.onHello(() => {
        const sessions = connected.get(session.clientId) ?? new Set();
        connected.set(session.clientId, sessions.add(session));
      });
    },
  };
  /** The party's listeners: this room's workers (our own count fresh), and other rooms'. */
  const status = (): PartyStatus => {
    const perWorker = [...totals.perWorker];
    perWorker[index] = group.sessions.size; // our own count is always the freshest
    const here = perWorker.reduce((a, b) => a + (b ?? 0), 0);
    const elsewhere = totals.total - totals.perWorker.reduce((a, b) => a + (b ?? 0), 0);
    const rejected = totals.rejected + group.rejectedMessages - reportedRejected;
    return { total: here + elsewhere, here, perWorker, rejected, rooms: totals.rooms };
  };
  const app = createRoutes({
    assetsDir: toFileUrl(config.assetsDir),
    status,
    artwork: (key) => artwork.images.original(key),
  });

  const handle = (message: DownMessage): boolean => {
    switch (message.type) {
      case "chunk":
        group.onChunk(message);
        return true;
      case "now-playing":
        group.onNowPlaying(message.nowPlaying);
        artwork.onNowPlaying(message.nowPlaying);
        return true;
      case "artwork":
        artwork.onImage(message.key, message.mime, message.bytes);
        return true;
      case "stopped":
        group.onStopped();
        return true;
      case "group-volume":
        group.applyGroupVolume(message);
        return true;
      case "players":
        group.setAllPlayers(message);
        return true;
      case "cleared":
        group.onCleared();
        return true;
      case "totals":
        totals = message;
        return true;
      case "approvals":
        admission.setApproved(message.clientIds);
        group.reconsider();
        return true;
      case "pairings":
        pairings.setRecords(message.clients);
        return true;
      case "pair":
        pairings.start(message.clientId, message.method, message.secret);
        return true;
      case "pair-code":
        pairings.code(message.clientId, message.code);
        return true;
      case "pair-cancel":
        pairings.cancel(message.clientId);
        return true;
      case "pair-saved":
        pairings.saved(message.clientId);
        return true;
      case "clock-moved":
        calibrated?.recheck();
        return true;
      case "clock-answer":
        calibrated?.onAnswer(message.sentUs, message.coordinatorUs);
        return true;
      case "configure":
        throw new Error("the configuration came twice");
      case "shutdown":
        return false;
    }
  };
  const commands = (async () => {
    try {
      let busySince = performance.now();
      for await (const message of io.input) {
        if (!handle(message)) break;
        // A burst of chunks (playback starting, a new worker's backlog) is encoded in
        // slices, so queued sends and time answers go out in between.
        if (performance.now() - busySince > BUSY_SLICE_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          busySince = performance.now();
        }
      }
    } catch (error) {
      log.error(`stopping: ${error instanceof Error ? error.message : error}`);
      report({ type: "error", worker: index, message: String(error) });
    } finally {
      stop.abort(); // stdin closed (even a SIGKILLed coordinator), a bad frame, or shutdown
    }
  })();
  if (calibrated) {
    calibrated.run(stop.signal);
    await Promise.race([calibrated.synced(), commands]);
    if (stop.signal.aborted) {
      clearInterval(heartbeat);
      return await up.close();
    }
  }

  let front: Front;
  try {
    front = await listen({
      hostname: config.host,
      port: config.port,
      reusePort: config.reusePort,
      handler: app.fetch,
      websocketPath: SENDSPIN_PATH,
      onWebSocket: (socket, already) => acceptSendspin(socket, already, dialects),
      onError: (error) =>
        log.error(`request failed: ${error instanceof Error ? error.message : error}`),
    });
  } catch (error) {
    report({ type: "failed", worker: index, reason: bindFailure(error, config) });
    stop.abort();
    clearInterval(heartbeat);
    await up.close();
    return;
  }
  report({ type: "listening", worker: index, port: front.port });
  for (const url of config.dial.map((href) => new URL(href))) {
    keepDialling(url, dialects, log, stop.signal).catch((error) =>
      log.error(`stopped dialling ${url.href}: ${error?.message ?? error}`)
    );
  }

  await commands;
  pace(false);
  group.stop();
  clearTimeout(rejectReport);
  for (const session of [...group.sessions]) {
    session.endStream();
    session.close(1001, "server shutting down");
  }
  await front.close();
  clearInterval(heartbeat);
  await up.close();
}

/** The folder as a URL that files resolve against (hence the trailing slash). */
function toFileUrl(path: string): URL {
  return pathToFileURL(path.endsWith("/") ? path : `${path}/`);
}

function bindFailure(error: unknown, config: WorkerConfig): string {
  const where = `${config.host}:${config.port}`;
  const code = (error as { code?: string })?.code;
  if (code === "EADDRINUSE" || error instanceof Deno.errors.AddrInUse) {
    return `port ${config.port} is in use: stop the other program or choose --port`;
  }
  if (code === "EACCES" || error instanceof Deno.errors.PermissionDenied) {
    return `not allowed to listen on ${where}: use a port above 1023 or run with more rights`;
  }
  if (code === "EADDRNOTAVAIL" || error instanceof Deno.errors.AddrNotAvailable) {
    return `cannot listen on ${where}: no such address on this machine (check --host)`;
  }
  return `cannot listen on ${where}: ${error instanceof Error ? error.message : error}`;
}
