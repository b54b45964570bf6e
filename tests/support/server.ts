/** Starts a real server in this process on a loopback port chosen by the OS. */
import type { ServeConfig } from "../../coordinator/config.ts";
import { serve } from "../../coordinator/serve.ts";

export interface TestServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startServer(config: Partial<ServeConfig> = {}): Promise<TestServer> {
  const shutdown = new AbortController();
  let ready!: (port: number) => void;
  const port = new Promise<number>((resolve) => ready = resolve);
  const done = serve({
    source: { kind: "demo" },
    port: 0,
    host: "127.0.0.1",
    name: "Test Party",
    workers: 1,
    clients: [],
    logLevel: "WARNING",
    opusBitrate: 128_000,
    ...config,
  }, { signal: shutdown.signal, print: () => {}, onReady: (info) => ready(info.port) });
  const actualPort = await Promise.race([port, done.then(() => -1)]);
  if (actualPort < 0) throw new Error("server stopped before it was ready");
  return {
    url: `http://127.0.0.1:${actualPort}/`,
    port: actualPort,
    stop: async () => {
      shutdown.abort();
      await done;
    },
  };
}
