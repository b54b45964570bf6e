/**
 * A TCP relay that delays every piece of data, each way, by `delayMs` ± `jitterMs` (uniform),
 * keeping its order as TCP does: netem's "delay 2ms 1ms" in user space, for kernels without
 * sch_netem (this project's CI machines have none). Each direction of each connection has
 * its own queue; a piece goes no earlier than the one before it.
 */
export interface DelayRelay {
  port: number;
  /** nats://127.0.0.1:port, or with `scheme`. */
  url(scheme?: string): string;
  close(): Promise<void>;
}

export function startDelayRelay(
  target: { host: string; port: number },
  options: { delayMs: number; jitterMs: number },
): DelayRelay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const delay = () => options.delayMs + (Math.random() * 2 - 1) * options.jitterMs;
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    let lastDueMs = 0;
    let chain = Promise.resolve();
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        const piece = buffer.slice(0, n);
        const dueMs = Math.max(performance.now() + delay(), lastDueMs);
        lastDueMs = dueMs;
        chain = chain.then(async () => {
          const waitMs = dueMs - performance.now();
          if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
          let written = 0;
          while (written < piece.length) written += await to.write(piece.subarray(written));
        }).catch(() => {});
      }
    } catch {
      // the connection ended
    }
    await chain;
    for (const conn of [from, to]) {
      try {
        conn.close();
      } catch {
        // closed already
      }
      open.delete(conn);
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      try {
        const server = await Deno.connect({ hostname: target.host, port: target.port });
        open.add(client).add(server);
        pump(client, server);
        pump(server, client);
      } catch {
        client.close(); // the target is down: so is the relay, for this connection
      }
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    port,
    url: (scheme = "nats") => `${scheme}://127.0.0.1:${port}`,
    close: async () => {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      await accepting;
    },
  };
}

/**
 * `deno run --allow-net delay_relay.ts HOST PORT DELAY_MS JITTER_MS`: a relay of its own, in
 * whatever network namespace it runs; prints its port, then relays until killed.
 */
if (import.meta.main) {
  const [host, port, delayMs, jitterMs] = Deno.args;
  const relay = startDelayRelay({ host, port: Number(port) }, {
    delayMs: Number(delayMs),
    jitterMs: Number(jitterMs),
  });
  console.log(relay.port);
}
