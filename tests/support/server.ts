/** Starts a real server in this process on a loopback port chosen by the OS. */
import type { ServeConfig } from "../../coordinator/config.ts";
import { serve } from "../../coordinator/serve.ts";
import { runWorker } from "../../worker/worker.ts";
import type { WorkerPool } from "../../coordinator/worker_pool.ts";

export interface TestServer {
  url: string;
  port: number;
  pool: WorkerPool;
  stop(): Promise<void>;
}

export async function startServer(config: Partial<ServeConfig> = {}): Promise<TestServer> {
  const shutdown = new AbortController();
  let ready!: (info: { port: number; pool: WorkerPool }) => void;
  const started = new Promise<{ port: number; pool: WorkerPool }>((resolve) => ready = resolve);
  const done = serve({
    source: { kind: "demo" },
    port: 0,
    host: "127.0.0.1",
    name: "Test Party",
    workers: 1,
    clients: [],
    logLevel: "WARNING",
    opusBitrate: 128_000,
    maxClients: 1_000,
    portPerWorker: false,
    guests: "open",
    legacy: true,
    mdns: false, // tests in this process stay off the network's service lists
    shuffle: false,
    once: false,
    pair: [],
    ...config,
  }, {
    signal: shutdown.signal,
    runWorker,
    settingsFolder: Deno.makeTempDirSync({ prefix: "sendspin_settings_" }),
    print: () => {},
    onReady: ready,
  });
  const info = await Promise.race([started, done.then(() => undefined)]);
  if (!info) throw new Error("server stopped before it was ready");
  return {
    url: `http://127.0.0.1:${info.port}/`,
    port: info.port,
    pool: info.pool,
    stop: async () => {
      shutdown.abort();
      await done;
    },
  };
}
