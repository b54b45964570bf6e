/**
 * A real NATS server for tests: Debian's `nats-server` (2.9.x), not a stand-in, so what the
 * tests see (auth errors, permissions, JetStream, a server that dies and comes back) is what
 * a party would see. One config file per server, in its own temp dir; `restart()` reuses it
 * with the same port and JetStream store, as a server restarted by its supervisor would.
 *
 *     const why = await whyNoNatsServer();
 *     Deno.test({ name: "...", ignore: ignoreUnless(!why, `...: ${why}`), fn: async () => {
 *       const nats = await startNatsServer({ users: [{ user: "u", password: "p" }] });
 *       try { ... } finally { await nats.stop(); }
 *     } });
 */
import { until } from "./until.ts";

/** From launch to "Server is ready"; it takes a few ms, so this is only for a stuck machine. */
const READY_MS = 10_000;
/** SIGTERM's grace before SIGKILL. */
const STOP_MS = 2_000;

/** On PATH, or where Debian puts it (/usr/sbin, which a non-root PATH may lack). */
const CANDIDATES = ["nats-server", "/usr/sbin/nats-server"];
let found: Promise<{ path: string } | { why: string }> | undefined;

function natsServer(): Promise<{ path: string } | { why: string }> {
  return found ??= (async () => {
    for (const path of CANDIDATES) {
      try {
        const out = await new Deno.Command(path, {
          args: ["--version"],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        if (out.success) return { path };
        const said = new TextDecoder().decode(out.stderr).trim();
        return { why: `${path} --version failed (exit ${out.code}${said ? `: ${said}` : ""})` };
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) continue;
        return { why: `cannot run ${path}: ${(error as Error).message}` };
      }
    }
    return { why: "nats-server is not installed (apt-get install nats-server)" };
  })();
}

/** Why this machine cannot run `nats-server` for tests, or undefined if it can. */
export async function whyNoNatsServer(): Promise<string | undefined> {
  const server = await natsServer();
  return "why" in server ? server.why : undefined;
}

/** What a user or nkey may publish and subscribe to (NATS subjects, wildcards allowed). */
export interface NatsPermissions {
  publish?: string[];
  subscribe?: string[];
}

export interface NatsServerOptions {
  /** Default: a free port (picked on the host's loopback, which is also free in a fresh netns). */
  port?: number;
  /** The address it listens on. Default 127.0.0.1. */
  host?: string;
  /** Default true, with the store in the server's fresh temp dir (kept across `restart()`). */
  jetstream?: boolean;
  users?: { user: string; password: string; permissions?: NatsPermissions }[];
  /** A shared secret instead of users (NATS allows one or the other, not both). */
  token?: string;
  /** Users known by their nkey (a public key starting with U); may go with `users`. */
  nkeys?: { publicKey: string; permissions?: NatsPermissions }[];
  tls?: { certFile: string; keyFile: string };
  /** Run inside this network namespace (`ip netns exec NAME`). */
  netns?: string;
  /**
   * A config of one's own, in nats-server's format, in place of the generated one (only
   * `listen` is added); `{{STORE}}` stands for the server's JetStream store dir.
   */
  configText?: string;
}

export interface NatsServer {
  /** "nats://host:port". */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Everything it has logged (stdout and stderr), across restarts. */
  log(): string;
  /** SIGTERM, then SIGKILL after 2 s; waits for the exit. Does nothing once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again (stopping it first if it runs) with the same config, port and store. */
  restart(): Promise<void>;
  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Dirs of this process's servers: removed when the process ends (a stopped one may restart). */
const dirs = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const dir of dirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** Writes the config, starts the server and resolves once it accepts clients. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = await natsServer();
  if ("why" in binary) throw new Error(`startNatsServer: ${binary.why}`);
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? freePort(host);
  const dir = await Deno.makeTempDir({ prefix: "sendspin-nats-" });
  dirs.add(dir);
  const configFile = `${dir}/nats.conf`;
  // The config format is a superset of JSON, so JSON it is: no quoting rules of our own.
  const text = options.configText !== undefined
    ? `listen: "${host.includes(":") ? `[${host}]` : host}:${port}"\n${
      options.configText.replaceAll("{{STORE}}", `${dir}/store`)
    }`
    : JSON.stringify(config(options, host, port, dir), null, 2);
  await Deno.writeTextFile(configFile, text, { mode: 0o600 });
  const server = new Server(binary.path, host, port, configFile, options.netns);
  await server.launch();
  return server;
}

function config(options: NatsServerOptions, host: string, port: number, dir: string) {
  const users = [
    ...(options.users ?? []).map(({ user, password, permissions }) => ({
      user,
      password,
      ...(permissions && { permissions }),
    })),
    ...(options.nkeys ?? []).map(({ publicKey, permissions }) => ({
      nkey: publicKey,
      ...(permissions && { permissions }),
    })),
  ];
  if (options.token !== undefined && users.length) {
    // nats-server would refuse to start; say it here, where the test's mistake is.
    throw new Error("startNatsServer: a token, or users and nkeys, not both");
  }
  return {
    listen: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    ...(options.jetstream !== false && { jetstream: { store_dir: `${dir}/store` } }),
    ...(options.token !== undefined && { authorization: { token: options.token } }),
    ...(users.length && { authorization: { users } }),
    ...(options.tls && {
      tls: { cert_file: options.tls.certFile, key_file: options.tls.keyFile },
    }),
  };
}

/** A port nothing listens on now (on `host` if it is ours, else on loopback). */
function freePort(host: string): number {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: host, port: 0 });
  } catch {
    listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  }
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

class Server implements NatsServer {
  readonly url: string;
  #lines: string[] = [];
  #child?: Deno.ChildProcess;
  /** Set once the current child has exited and its output is read to the end. */
  #exited?: Promise<Deno.CommandStatus>;
  #status?: Deno.CommandStatus;

  constructor(
    readonly binary: string,
    readonly host: string,
    readonly port: number,
    readonly configFile: string,
    readonly netns: string | undefined,
  ) {
    this.url = `nats://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  log(): string {
    return this.#lines.join("");
  }

  async launch(): Promise<void> {
    const args = ["-c", this.configFile];
    // `ip netns exec` execs the command in place, so the signals below reach nats-server.
    const logFrom = this.#lines.length;
    const child = new Deno.Command(this.netns ? "ip" : this.binary, {
      args: this.netns ? ["netns", "exec", this.netns, this.binary, ...args] : args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#status = undefined;
    const pumps = [this.#pump(child.stdout), this.#pump(child.stderr)];
    this.#exited = Promise.all([child.status, ...pumps]).then(([status]) => {
      this.#status = status;
      return status;
    });
    const since = () => this.#lines.slice(logFrom).join("");
    // Its own word rather than a TCP probe: it works from outside a netns too, and comes after
    // JetStream is up, so a client may use it at once.
    await until("nats-server to say it is ready", () => {
      return this.#status !== undefined || since().includes("Server is ready");
    }, { ms: READY_MS, everyMs: 5, seen: since }).catch(async (error) => {
      await this.kill();
      throw error;
    });
    // (TypeScript thinks #status is still the undefined set above; the callback changed it.)
    const status = this.#status as Deno.CommandStatus | undefined;
    if (status) {
      throw new Error(`nats-server exited (code ${status.code}) before it was ready:\n${since()}`);
    }
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) this.#lines.push(text);
  }

  async stop(): Promise<void> {
    if (!this.#signal("SIGTERM")) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => timer = setTimeout(resolve, STOP_MS, "late"));
    const first = await Promise.race([this.#exited!, late]);
    clearTimeout(timer);
    if (first === "late") await this.kill();
  }

  async kill(): Promise<void> {
    this.#signal("SIGKILL");
    await this.#exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Sends `signal` if it still runs; false if it had exited already. */
  #signal(signal: Deno.Signal): boolean {
    if (!this.#child || this.#status) return false;
    try {
      this.#child.kill(signal);
      return true;
    } catch {
      return false; // exited between the check and the kill
    }
  }
}
