/**
 * `sendspin serve` command line + settings file → one validated `ServeConfig`.
 * Precedence: flag, then the settings file, then the default. Everything wrong is a
 * `ConfigError` whose message is the one line shown to the user (exit code 1).
 */
import { parseArgs } from "node:util";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { LOG_LEVELS, type LogLevel } from "../protocol/log.ts";
import { GUEST_POLICIES, type GuestPolicy } from "../protocol/worker_config.ts";
import { type Settings, SETTINGS_PATH_HINT } from "./settings.ts";
import { SERVE_HELP } from "./help.ts";
import { decodePairingToken, PairingTokenError } from "../protocol/pairing/token.ts";
import { type NatsTarget, type NatsTargetOptions, parseNatsTarget } from "./rooms/nats_target.ts";

export { LOG_LEVELS, type LogLevel, SERVE_HELP };

export type SourceSpec =
  | { kind: "demo" }
  /** A local file; it existed when the command line was checked. */
  | { kind: "file"; path: string }
  /** A folder (its audio files, recursively, in name order) or an .m3u/.m3u8/.pls file. */
  | { kind: "folder"; path: string }
  | { kind: "playlist"; path: string }
  /** Anything with a scheme (`http://`, `https://`, `rtsp://`, ...), passed on as given. */
  | { kind: "url"; url: string }
  /** `--source-format` given: an ffmpeg input format (`-f`) and its input, not checked. */
  | { kind: "device"; format: string; input: string };

/** What every room of a party needs, the origin's (`serve`) and an edge's (`edge`). */
export interface RoomConfig {
  /** 0..65535 (0: any free port); default 8927. */
  port: number;
  /** Bind address; default "0.0.0.0" (all interfaces). IPv6 is given without brackets. */
  host: string;
  /** Default "Sendspin Server". */
  name: string;
  /** 1..MAX_WORKERS; default 1. */
  workers: number;
  /** ws://, wss:// or cast://host[:port] URLs to dial; empty unless workers is 1. */
  clients: string[];
  /** Default INFO. */
  logLevel: LogLevel;
  /** Opus bits per second, 6,000..510,000; default 128,000. */
  opusBitrate: number;
  /** Listeners allowed at once across all workers; the next one is turned away. */
  maxClients: number;
  /** Workers on consecutive ports from `port` instead of sharing it; default false. */
  portPerWorker: boolean;
  /** Unpaired encrypted clients: all may play ("open", the default) or each is approved. */
  guests: GuestPolicy;
  /** Legacy (unencrypted v1) clients may play; default true (the page speaks it). */
  legacy: boolean;
  /** The legacy dialect's server_id on every worker (a harness's); default one per worker. */
  serverId?: string;
  /** Announce the party on mDNS; default true. */
  mdns: boolean;
  /** Where to write what every client was sent, at exit (a harness's); default nowhere. */
  summary?: string;
  /** Pairing tokens (`SP:0...`) of speakers to pair when they connect; default none. */
  pair: string[];
}

export interface ServeConfig extends RoomConfig {
  source: SourceSpec;
  /** Play the tracks in a random order; default false. */
  shuffle: boolean;
  /** Play the source once, end the stream and exit 0; default false (it loops). */
  once: boolean;
  /** `--edges`: publish the party on this NATS server for edges; default none. */
  edges?: NatsTarget;
}

/** `sendspin edge NATS_URL`: a room that plays the origin's party. */
export interface EdgeConfig extends RoomConfig {
  origin: NatsTarget;
  /** The party to join; default the only one on the NATS server. */
  party?: string;
  /** --name or the settings' name; default the party's name and this host's. */
  nameGiven: boolean;
}

export const DEFAULT_PORT = 8927;
export const DEFAULT_OPUS_KBPS = 128;
/**
 * What 2 cores hold with room to spare (BENCHMARKS.md: 2,000 listeners on loopback with no
 * late chunk); a script opening connections in a loop cannot take the machine down.
 */
export const DEFAULT_MAX_CLIENTS = 1_000;
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_NAME = "Sendspin Server";
export const DEFAULT_LOG_LEVEL: LogLevel = "INFO";
/** Each worker is a whole Deno process (tens of MB); a typo such as 1000 should not fork-bomb the host. */
export const MAX_WORKERS = 64;

/** A bad command line or settings value: `message` is the one line shown to the user; exit code 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface ParseServeOptions {
  /** Settings as read from the settings file (already parsed); default {}. */
  settings?: Settings;
  /**
   * Whether a local source file exists; default: `Deno.statSync` finds something that is
   * not a directory (a permission error becomes a ConfigError). Injected for tests.
   */
  fileExists?: (path: string) => boolean;
  /** Whether a local source is a folder; default `Deno.statSync`. Injected for tests. */
  isFolder?: (path: string) => boolean;
  /** Warnings about what was given (a credentials file others can read). */
  warn?: (line: string) => void;
}

const OPTIONS = {
  demo: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  port: { type: "string" },
  host: { type: "string" },
  name: { type: "string" },
  workers: { type: "string" },
  client: { type: "string", multiple: true },
  pair: { type: "string", multiple: true },
  "source-format": { type: "string" },
  "log-level": { type: "string" },
  "opus-bitrate": { type: "string" },
  "max-clients": { type: "string" },
  "port-per-worker": { type: "boolean" },
  guests: { type: "string" },
  legacy: { type: "string" },
  "server-id": { type: "string" },
  "no-mdns": { type: "boolean" },
  summary: { type: "string" },
  shuffle: { type: "boolean" },
  once: { type: "boolean" },
  edges: { type: "string" },
  "nats-creds": { type: "string" },
  "nats-ca": { type: "string" },
  party: { type: "string" },
} as const;

/** Options that choose or shape the source: the origin's alone. */
const ORIGIN_ONLY = ["demo", "source-format", "shuffle", "once", "edges"] as const;
/** Options of an edge alone. */
const EDGE_ONLY = ["party"] as const;

/** Every option `serve` accepts, as typed on the command line. */
export const SERVE_OPTION_NAMES: readonly string[] = Object.keys(OPTIONS)
  .filter((name) => !(EDGE_ONLY as readonly string[]).includes(name)).map((name) => `--${name}`);

/** Every option `edge` accepts. */
export const EDGE_OPTION_NAMES: readonly string[] = Object.keys(OPTIONS)
  .filter((name) => !(ORIGIN_ONLY as readonly string[]).includes(name)).map((name) => `--${name}`);

type SwitchOption = "demo" | "port-per-worker" | "no-mdns" | "shuffle" | "once";
type StringOption = Exclude<keyof typeof OPTIONS, SwitchOption | "help">;

interface Flags {
  demo: boolean;
  help: boolean;
  switches: Set<SwitchOption>;
  positionals: string[];
  clients: string[];
  pair: string[];
  values: Partial<Record<StringOption, string>>;
}

const SEE_HELP = "(see sendspin serve --help)";
const SEE_EDGE_HELP = "(see sendspin edge --help)";
const IN_SETTINGS = `in ${SETTINGS_PATH_HINT}`;

/** `args` are the words after `serve`. Returns `{ help: true }` for -h/--help. Throws ConfigError. */
export function parseServeArgs(
  args: string[],
  options: ParseServeOptions = {},
): ServeConfig | { help: true } {
  const flags = readFlags(args);
  if (flags.help) return { help: true };
  const settings = options.settings ?? {};
  const fileExists = options.fileExists ?? defaultFileExists;
  for (const option of EDGE_ONLY) {
    if (option in flags.values) {
      throw new ConfigError(`--${option} is for sendspin edge, not serve ${SEE_HELP}`);
    }
  }
  if (flags.positionals.length > 1) {
    throw new ConfigError(
      `only one SOURCE can be given (got ${flags.positionals.map(quote).join(", ")}) ${SEE_HELP}`,
    );
  }
  const room = roomConfig(flags, settings);
  const source = resolveSource(flags, settings, fileExists, options.isFolder ?? defaultIsFolder);
  if (flags.values["nats-creds"] !== undefined || flags.values["nats-ca"] !== undefined) {
    if (flags.values.edges === undefined) {
      throw new ConfigError(
        `--nats-creds and --nats-ca go with --edges nats://HOST:4222 ${SEE_HELP}`,
      );
    }
  }
  const edges = flags.values.edges !== undefined
    ? parseNatsTarget(flags.values.edges, "--edges", natsOptions(flags, options))
    : undefined;
  return {
    ...room,
    source,
    shuffle: flags.switches.has("shuffle"),
    once: flags.switches.has("once"),
    ...(edges ? { edges } : {}),
  };
}

/** `args` are the words after `edge`. Returns `{ help: true }` for -h/--help. Throws ConfigError. */
export function parseEdgeArgs(
  args: string[],
  options: ParseServeOptions = {},
): EdgeConfig | { help: true } {
  const flags = readFlags(args);
  if (flags.help) return { help: true };
  const settings = options.settings ?? {};
  for (const option of ORIGIN_ONLY) {
    const given = flags.switches.has(option as SwitchOption) || option in flags.values;
    if (given) {
      throw new ConfigError(
        `--${option} is for sendspin serve: an edge plays the origin's party ${SEE_EDGE_HELP}`,
      );
    }
  }
  if (flags.positionals.length !== 1) {
    throw new ConfigError(
      flags.positionals.length === 0
        ? `sendspin edge needs the party's NATS server, e.g. sendspin edge nats://HOST:4222 ${SEE_EDGE_HELP}`
        : `only one NATS URL can be given (got ${
          flags.positionals.map(quote).join(", ")
        }); join servers with commas`,
    );
  }
  const origin = parseNatsTarget(flags.positionals[0], "the NATS URL", natsOptions(flags, options));
  const party = flags.values.party;
  if (party !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(party)) {
    throw new ConfigError(
      `--party must be a party id as the origin's banner shows it, e.g. AbC123xy (got ${
        quote(party)
      })`,
    );
  }
  return {
    ...roomConfig(flags, settings),
    origin,
    ...(party !== undefined ? { party } : {}),
    nameGiven: flags.values.name !== undefined || settings.name !== undefined,
  };
}

function natsOptions(flags: Flags, options: ParseServeOptions): NatsTargetOptions {
  return {
    ...(flags.values["nats-creds"] !== undefined ? { credsFile: flags.values["nats-creds"] } : {}),
    ...(flags.values["nats-ca"] !== undefined ? { caFile: flags.values["nats-ca"] } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  };
}

/** Everything but the source: the same for `serve` and `edge`. */
function roomConfig(flags: Flags, settings: Settings): RoomConfig {
  const port = flags.values.port !== undefined
    ? checkPort(flags.values.port, "--port")
    : settings.listen_port !== undefined
    ? checkPort(settings.listen_port, `"listen_port" ${IN_SETTINGS}`)
    : DEFAULT_PORT;
  const host = flags.values.host !== undefined ? checkHost(flags.values.host) : DEFAULT_HOST;
  const name = flags.values.name !== undefined
    ? checkName(flags.values.name, "--name")
    : settings.name !== undefined
    ? checkName(settings.name, `"name" ${IN_SETTINGS}`)
    : DEFAULT_NAME;
  const workers = flags.values.workers !== undefined ? checkWorkers(flags.values.workers) : 1;
  const logLevel = flags.values["log-level"] !== undefined
    ? checkLogLevel(flags.values["log-level"], "--log-level")
    : settings.log_level !== undefined
    ? checkLogLevel(settings.log_level, `"log_level" ${IN_SETTINGS}`)
    : DEFAULT_LOG_LEVEL;

  // Any --client replaces the settings list rather than adding to it.
  const settingsClients = flags.clients.length === 0 ? settings.clients : undefined;
  const clientsFromSettings = settingsClients !== undefined;
  const clients = settingsClients !== undefined
    ? settingsClients.map((url) => checkClient(url, `each of "clients" ${IN_SETTINGS}`))
    : flags.clients.map((url) => checkClient(url, "--client"));
  if (workers > 1 && clients.length > 0) {
    throw new ConfigError(
      clientsFromSettings
        ? `--client works only with --workers 1, but "clients" ${IN_SETTINGS} lists ${clients.length} (got --workers ${workers}); use --workers 1 or remove them`
        : `--client works only with --workers 1 (got --workers ${workers})`,
    );
  }

  const opusBitrate = flags.values["opus-bitrate"] !== undefined
    ? checkOpusBitrate(flags.values["opus-bitrate"])
    : DEFAULT_OPUS_KBPS * 1000;
  const maxClients = flags.values["max-clients"] !== undefined
    ? checkMaxClients(flags.values["max-clients"])
    : DEFAULT_MAX_CLIENTS;
  const portPerWorker = flags.switches.has("port-per-worker");
  const guests = checkChoice(flags.values.guests, "--guests", GUEST_POLICIES, "open");
  const legacy = checkChoice(flags.values.legacy, "--legacy", ["on", "off"], "on") === "on";
  const serverId = flags.values["server-id"] !== undefined
    ? checkServerId(flags.values["server-id"])
    : undefined;
  const summary = flags.values.summary !== undefined
    ? checkName(flags.values.summary, "--summary")
    : undefined;
  return {
    port,
    host,
    name,
    workers,
    clients,
    logLevel,
    opusBitrate,
    maxClients,
    portPerWorker,
    guests,
    legacy,
    mdns: !flags.switches.has("no-mdns"),
    ...(serverId !== undefined ? { serverId } : {}),
    ...(summary !== undefined ? { summary } : {}),
    pair: flags.pair,
  };
}

/** A speaker's pairing token, as printed on it or shown by its app. */
function checkToken(value: string): string {
  try {
    decodePairingToken(value, "0");
  } catch (error) {
    if (!(error instanceof PairingTokenError)) throw error;
    throw new ConfigError(`--pair needs a speaker's pairing token SP:0...: ${error.message}`);
  }
  return value.trim();
}

/** A server_id a client can show and compare: 1-128 printable ASCII characters. */
function checkServerId(value: string): string {
  if (!/^[\x21-\x7e]{1,128}$/.test(value)) {
    throw new ConfigError(
      `--server-id must be 1 to 128 printable characters without spaces (got ${quote(value)})`,
    );
  }
  return value;
}

/** One of `choices`, or `fallback` when the option is not given. */
function checkChoice<T extends string>(
  value: string | undefined,
  label: string,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  const choice = value.toLowerCase() as T;
  if (!choices.includes(choice)) {
    throw new ConfigError(`${label} must be ${choices.join(" or ")} (got ${quote(value)})`);
  }
  return choice;
}

function readFlags(args: string[]): Flags {
  // strict: false so that every mistake reaches us as a token and gets our own one-line message.
  const { tokens } = parseArgs({
    args,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags: Flags = {
    demo: false,
    help: false,
    switches: new Set(),
    positionals: [],
    clients: [],
    pair: [],
    values: {},
  };
  if (tokens.some((token) => token.kind === "option" && token.name === "help")) {
    return { ...flags, help: true };
  }
  for (const token of tokens) {
    if (token.kind === "positional") flags.positionals.push(token.value);
    if (token.kind !== "option") continue;
    const { name, rawName, value, inlineValue } = token;
    if (!Object.hasOwn(OPTIONS, name)) {
      throw new ConfigError(`unknown option ${rawName} ${SEE_HELP}`);
    }
    const option = name as keyof typeof OPTIONS;
    if (option === "help") continue; // answered above
    if (OPTIONS[option].type === "boolean") {
      if (value !== undefined) {
        throw new ConfigError(`${rawName} takes no value (got ${quote(value)})`);
      }
      flags.switches.add(option as SwitchOption);
      flags.demo = flags.switches.has("demo");
      continue;
    }
    if (value === undefined) throw new ConfigError(`${rawName} needs a value ${SEE_HELP}`);
    // parseArgs takes the next word as the value even when it is another option ("--name --demo").
    if (!inlineValue && value.startsWith("-") && !/^-\d/.test(value)) {
      throw new ConfigError(
        `${rawName} needs a value (got ${quote(value)}; write ${rawName}=${value} if you mean it)`,
      );
    }
    if (option === "client") flags.clients.push(value);
    else if (option === "pair") flags.pair.push(checkToken(value));
    else flags.values[option as StringOption] = value; // the last one wins, as with argparse
  }
  return flags;
}

function checkPort(value: string | number, label: string): number {
  const port = wholeNumber(value);
  if (port === undefined || port < 0 || port > 65535) {
    throw new ConfigError(`${label} must be a whole number from 0 to 65535 (got ${quote(value)})`);
  }
  return port;
}

/** libopus accepts 6 to 510 kbit/s. */
function checkOpusBitrate(value: string): number {
  const kbps = wholeNumber(value);
  if (kbps === undefined || kbps < 6 || kbps > 510) {
    throw new ConfigError(
      `--opus-bitrate must be a whole number of kbit/s from 6 to 510 (got ${quote(value)})`,
    );
  }
  return kbps * 1000;
}

function checkMaxClients(value: string): number {
  const max = wholeNumber(value);
  if (max === undefined || max < 1 || max > 100_000) {
    throw new ConfigError(
      `--max-clients must be a whole number from 1 to 100000 (got ${quote(value)})`,
    );
  }
  return max;
}

function checkWorkers(value: string): number {
  const workers = wholeNumber(value);
  if (workers === undefined || workers < 1) {
    throw new ConfigError(`--workers must be a whole number of at least 1 (got ${quote(value)})`);
  }
  if (workers > MAX_WORKERS) {
    throw new ConfigError(
      `--workers must be at most ${MAX_WORKERS}, one process each (got ${quote(value)})`,
    );
  }
  return workers;
}

function wholeNumber(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

function checkHost(value: string): string {
  const host = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  const hostName = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
  if (isIP(host) === 0 && !hostName.test(host)) {
    throw new ConfigError(`--host must be an IP address or host name (got ${quote(value)})`);
  }
  return host;
}

function checkName(value: string, label: string): string {
  const name = value.trim();
  if (name === "") throw new ConfigError(`${label} must not be empty`);
  return name;
}

function checkLogLevel(value: string, label: string): LogLevel {
  const level = value.toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(`${label} must be one of ${LOG_LEVELS.join(", ")} (got ${quote(value)})`);
  }
  return level;
}

function checkClient(value: string, label: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined; // reported below with the value seen
  }
  const ok = url !== undefined && url.hostname !== "" && url.username === "" &&
    url.password === "" &&
    ((url.protocol === "ws:" || url.protocol === "wss:") ||
      (url.protocol === "cast:" && (url.pathname === "" || url.pathname === "/") &&
        url.search === "" && url.hash === ""));
  if (!ok) {
    throw new ConfigError(
      `${label} must be a ws://, wss:// or cast://host[:port] URL (got ${quote(value)})`,
    );
  }
  return value;
}

function checkSourceFormat(value: string, label: string): string {
  // ffmpeg format names: alsa, pulse, s16le, lavfi, avfoundation, dshow, mov, ...
  if (!/^[A-Za-z0-9_][A-Za-z0-9_,-]*$/.test(value)) {
    throw new ConfigError(
      `${label} must be an ffmpeg input format such as alsa or pulse (got ${quote(value)})`,
    );
  }
  return value;
}

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * --demo, then SOURCE, then settings `source`. The `--source-format` flag applies to either
 * source; the settings `source_format` only to the settings `source` it was saved with, so a
 * file given on the command line is not opened as a sound card.
 */
function resolveSource(
  flags: Flags,
  settings: Settings,
  fileExists: (path: string) => boolean,
  isFolder: (path: string) => boolean,
): SourceSpec {
  if (flags.demo) return { kind: "demo" };
  const flagFormat = flags.values["source-format"];
  const format = flagFormat !== undefined
    ? checkSourceFormat(flagFormat, "--source-format")
    : undefined;
  let input: string;
  let label: string;
  let device = format;
  if (flags.positionals.length === 1) {
    input = flags.positionals[0];
    label = "SOURCE";
    if (input === "") throw new ConfigError(`SOURCE must not be empty ${SEE_HELP}`);
  } else if (settings.source !== undefined) {
    input = settings.source;
    label = `"source" ${IN_SETTINGS}`;
    if (device === undefined && settings.source_format !== undefined) {
      device = checkSourceFormat(settings.source_format, `"source_format" ${IN_SETTINGS}`);
    }
  } else if (format !== undefined) {
    throw new ConfigError(
      `--source-format ${format} needs a SOURCE naming the input, e.g. sendspin serve --source-format alsa hw:0`,
    );
  } else {
    throw new ConfigError(
      `No audio source: give a file or URL, or --demo ${SEE_HELP}`,
    );
  }

  if (device !== undefined) return { kind: "device", format: device, input };
  if (HAS_SCHEME.test(input)) {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new ConfigError(`${label} is not a valid URL (got ${quote(input)})`);
    }
    if (url.protocol !== "file:") return { kind: "url", url: input };
    input = fileURLToPath(url);
  }
  if (isFolder(input)) return { kind: "folder", path: input };
  if (!fileExists(input)) {
    throw new ConfigError(
      `${label} is not an existing file: ${quote(input)} ` +
        "(give a file, a URL such as http://..., or a device with --source-format)",
    );
  }
  if (/\.(m3u8?|pls)$/i.test(input)) return { kind: "playlist", path: input };
  return { kind: "file", path: input };
}

function defaultIsFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false; // not there: fileExists says so in its own words
  }
}

function defaultFileExists(path: string): boolean {
  try {
    return !Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Cannot check the source file ${quote(path)}: ${reason}`);
  }
}

function quote(value: string | number): string {
  return JSON.stringify(value);
}
