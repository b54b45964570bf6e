/**
 * Where the party's NATS server is, and how to prove who we are there: `nats://HOST:PORT`
 * (or `tls://` for TLS), optionally `user:password@` or `token@` in the URL, or a
 * credentials file (`--nats-creds`): a NATS `.creds` file (JWT and nkey), an nkey seed
 * (`SU...`), a `user:password` line or a token. A file keeps secrets out of `ps` and shell
 * history; it should be readable by its owner only. Everything wrong is a ConfigError.
 */
import {
  type Authenticator,
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "@nats-io/transport-node";
import { ConfigError } from "../config.ts";

export const DEFAULT_NATS_PORT = 4222;

export interface NatsTarget {
  /** host:port of each server, for the client. */
  servers: string[];
  /** The URL as shown to people: no password or token in it. */
  display: string;
  /** Require TLS (a `tls://` URL, or a CA file given). */
  tls?: { caFile?: string };
  authenticator?: Authenticator;
  /** What kind of credentials, for messages ("user edge", "a token", "an nkey"). */
  credentials?: string;
}

export interface NatsTargetOptions {
  /** A credentials file (--nats-creds). */
  credsFile?: string;
  /** A CA certificate (PEM) to trust for TLS (--nats-ca). */
  caFile?: string;
  /** Reads a file; default Deno.readFileSync (and stat for its mode). */
  readFile?: (path: string) => Uint8Array;
  /** Warnings (a credentials file others can read). */
  warn?: (line: string) => void;
}

/** `value`: one URL, or several separated by commas (a NATS cluster). `label` names the flag. */
export function parseNatsTarget(
  value: string,
  label: string,
  options: NatsTargetOptions = {},
): NatsTarget {
  const urls = value.split(",").map((part) => part.trim()).filter(Boolean);
  if (urls.length === 0) throw new ConfigError(`${label} needs a NATS URL, e.g. nats://HOST:4222`);
  let tls = false;
  let authenticator: Authenticator | undefined;
  let credentials: string | undefined;
  const servers: string[] = [];
  const shown: string[] = [];
  for (const text of urls) {
    let url: URL;
    try {
      url = new URL(text.includes("://") ? text : `nats://${text}`);
    } catch {
      throw new ConfigError(`${label} must be a URL like nats://HOST:4222 (got ${quote(text)})`);
    }
    if (url.protocol !== "nats:" && url.protocol !== "tls:") {
      throw new ConfigError(
        `${label} must be a nats:// or tls:// URL (got ${
          quote(text)
        }; a NATS server listens on nats://HOST:4222)`,
      );
    }
    if (!url.hostname || (url.pathname !== "" && url.pathname !== "/") || url.search) {
      throw new ConfigError(
        `${label} must be nats://[user:password@]HOST[:PORT] (got ${quote(text)})`,
      );
    }
    tls ||= url.protocol === "tls:";
    const port = url.port ? Number(url.port) : DEFAULT_NATS_PORT;
    const host = url.hostname;
    servers.push(`${host}:${port}`);
    shown.push(`${url.protocol}//${host}:${port}`);
    if (url.username && !authenticator) {
      const user = decodeURIComponent(url.username);
      if (url.password) {
        authenticator = usernamePasswordAuthenticator(user, decodeURIComponent(url.password));
        credentials = `user ${user}`;
      } else {
        authenticator = tokenAuthenticator(user);
        credentials = "a token";
      }
    }
  }
  if (options.credsFile !== undefined) {
    if (authenticator) {
      throw new ConfigError(
        `give NATS credentials either in ${label} or with --nats-creds, not both`,
      );
    }
    ({ authenticator, credentials } = readCredentials(options.credsFile, options));
  }
  if (options.caFile !== undefined) {
    tls = true;
    readOrFail(options.caFile, "--nats-ca", options); // there and readable, checked now
  }
  return {
    servers,
    display: shown.join(","),
    ...(tls ? { tls: options.caFile ? { caFile: options.caFile } : {} } : {}),
    ...(authenticator ? { authenticator, credentials } : {}),
  };
}

function readCredentials(
  path: string,
  options: NatsTargetOptions,
): { authenticator: Authenticator; credentials: string } {
  const bytes = readOrFail(path, "--nats-creds", options);
  if (!options.readFile) warnIfShared(path, options.warn);
  const text = new TextDecoder().decode(bytes).trim();
  if (text.includes("-----BEGIN NATS USER JWT-----")) {
    return { authenticator: credsAuthenticator(bytes), credentials: "a .creds file" };
  }
  if (/^SU[A-Z2-7]{50,}$/.test(text)) {
    return {
      authenticator: nkeyAuthenticator(new TextEncoder().encode(text)),
      credentials: "an nkey",
    };
  }
  if (text === "" || text.includes("\n")) {
    throw new ConfigError(
      `--nats-creds ${path} holds no credentials: give a NATS .creds file, an nkey seed (SU...), a user:password line or a token`,
    );
  }
  const colon = text.indexOf(":");
  if (colon > 0) {
    const user = text.slice(0, colon);
    return {
      authenticator: usernamePasswordAuthenticator(user, text.slice(colon + 1)),
      credentials: `user ${user}`,
    };
  }
  return { authenticator: tokenAuthenticator(text), credentials: "a token" };
}

function readOrFail(path: string, label: string, options: NatsTargetOptions): Uint8Array {
  try {
    return (options.readFile ?? Deno.readFileSync)(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ConfigError(`${label} ${path} cannot be read: ${why}`);
  }
}

function warnIfShared(path: string, warn?: (line: string) => void): void {
  try {
    const mode = Deno.statSync(path).mode;
    if (mode !== null && (mode & 0o077) !== 0) {
      warn?.(`NATS credentials in ${path} can be read by other users: chmod 600 ${path}`);
    }
  } catch {
    // read just now; a stat that fails says nothing worth a line
  }
}

function quote(value: string): string {
  return JSON.stringify(value);
}
