import assert from "node:assert/strict";
import {
  ConfigError,
  EDGE_OPTION_NAMES,
  parseEdgeArgs,
  parseServeArgs,
  type ParseServeOptions,
  SERVE_HELP,
  SERVE_OPTION_NAMES,
  type ServeConfig,
} from "../../coordinator/config.ts";
import { readSettings, type Settings, SETTINGS_PATH_HINT } from "../../coordinator/settings.ts";
import { EDGE_HELP } from "../../coordinator/help.ts";

const EXISTING = new Set(["song.mp3", "/music/party.flac", "from-settings.mp3"]);
const fileExists = (path: string) => EXISTING.has(path);

function parse(args: string[], settings: Settings = {}): ServeConfig {
  const result = parseServeArgs(args, { settings, fileExists });
  assert.ok(!("help" in result), "expected a config, got help");
  return result;
}

function parseError(args: string[], options: ParseServeOptions = {}): string {
  try {
    parseServeArgs(args, { fileExists, ...options });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.ok(!error.message.includes("\n"), "the message is one line");
    return error.message;
  }
  assert.fail(`no ConfigError for ${JSON.stringify(args)}`);
}

const IN = `in ${SETTINGS_PATH_HINT}`;

Deno.test("every bad command line is a ConfigError naming the option and the value seen", () => {
  const cases: [string[], string][] = [
    [["--foo"], "unknown option --foo (see sendspin serve --help)"],
    [["--demo", "-x"], "unknown option -x (see sendspin serve --help)"],
    [["--workers", "0", "--demo"], '--workers must be a whole number of at least 1 (got "0")'],
    [["--workers=1.5", "--demo"], '--workers must be a whole number of at least 1 (got "1.5")'],
    [["--workers", "-1", "--demo"], '--workers must be a whole number of at least 1 (got "-1")'],
    [["--workers", "65", "--demo"], '--workers must be at most 64, one process each (got "65")'],
    [["--port", "70000", "--demo"], '--port must be a whole number from 0 to 65535 (got "70000")'],
    [["--port=", "--demo"], '--port must be a whole number from 0 to 65535 (got "")'],
    [["--port", "80a", "--demo"], '--port must be a whole number from 0 to 65535 (got "80a")'],
    [
      ["--opus-bitrate", "600", "--demo"],
      '--opus-bitrate must be a whole number of kbit/s from 6 to 510 (got "600")',
    ],
    [
      ["--max-clients", "0", "--demo"],
      '--max-clients must be a whole number from 1 to 100000 (got "0")',
    ],
    [
      ["--log-level", "loud", "--demo"],
      '--log-level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got "loud")',
    ],
    [
      ["--client", "http://tv.local", "--demo"],
      '--client must be a ws://, wss:// or cast://host[:port] URL (got "http://tv.local")',
    ],
    [
      ["--client", "cast://", "--demo"],
      '--client must be a ws://, wss:// or cast://host[:port] URL (got "cast://")',
    ],
    [
      ["--client", "cast://tv.local/path", "--demo"],
      '--client must be a ws://, wss:// or cast://host[:port] URL (got "cast://tv.local/path")',
    ],
    [
      ["--client", "ws://a:8928/sendspin", "--workers", "2", "--demo"],
      "--client works only with --workers 1 (got --workers 2)",
    ],
    [
      ["song.mp3", "other.mp3"],
      'only one SOURCE can be given (got "song.mp3", "other.mp3") (see sendspin serve --help)',
    ],
    [["--name"], "--name needs a value (see sendspin serve --help)"],
    [
      ["--name", "--demo"],
      '--name needs a value (got "--demo"; write --name=--demo if you mean it)',
    ],
    [["--demo=yes"], '--demo takes no value (got "yes")'],
    [["--name", "  ", "--demo"], "--name must not be empty"],
    [
      ["--host", "bad host!", "--demo"],
      '--host must be an IP address or host name (got "bad host!")',
    ],
    [
      ["--source-format", "alsa"],
      "--source-format alsa needs a SOURCE naming the input, e.g. sendspin serve --source-format alsa hw:0",
    ],
    [
      ["--source-format", "al sa", "hw:0"],
      '--source-format must be an ffmpeg input format such as alsa or pulse (got "al sa")',
    ],
    [[], "No audio source: give a file or URL, or --demo (see sendspin serve --help)"],
    [
      ["missing.mp3"],
      'SOURCE is not an existing file: "missing.mp3" ' +
      "(give a file, a URL such as http://..., or a device with --source-format)",
    ],
    [
      ["hw:0"],
      'SOURCE is not an existing file: "hw:0" ' +
      "(give a file, a URL such as http://..., or a device with --source-format)",
    ],
    [["http://"], 'SOURCE is not a valid URL (got "http://")'],
    [[""], "SOURCE must not be empty (see sendspin serve --help)"],
  ];
  for (const [args, message] of cases) {
    assert.equal(parseError(args), message, JSON.stringify(args));
  }
});

Deno.test("every bad settings value is a ConfigError naming the key and the value seen", () => {
  const cases: [Settings, string[], string][] = [
    [
      { listen_port: 70000 },
      ["--demo"],
      `"listen_port" ${IN} must be a whole number from 0 to 65535 (got 70000)`,
    ],
    [
      { listen_port: 80.5 },
      ["--demo"],
      `"listen_port" ${IN} must be a whole number from 0 to 65535 (got 80.5)`,
    ],
    [
      { log_level: "loud" },
      ["--demo"],
      `"log_level" ${IN} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got "loud")`,
    ],
    [
      { clients: ["ws://ok:1", "http://x"] },
      ["--demo"],
      `each of "clients" ${IN} must be a ws://, wss:// or cast://host[:port] URL (got "http://x")`,
    ],
    [
      { clients: ["ws://a:8928/sendspin", "cast://tv.local"] },
      ["--demo", "--workers", "2"],
      `--client works only with --workers 1, but "clients" ${IN} lists 2 (got --workers 2); use --workers 1 or remove them`,
    ],
    [{ name: " " }, ["--demo"], `"name" ${IN} must not be empty`],
    [
      { source: "gone.mp3" },
      [],
      `"source" ${IN} is not an existing file: "gone.mp3" ` +
      "(give a file, a URL such as http://..., or a device with --source-format)",
    ],
    [
      { source: "hw:0", source_format: "-f" },
      [],
      `"source_format" ${IN} must be an ffmpeg input format such as alsa or pulse (got "-f")`,
    ],
  ];
  for (const [settings, args, message] of cases) {
    assert.equal(parseError(args, { settings }), message, JSON.stringify(settings));
  }
});

Deno.test("defaults apply when neither flag nor settings say otherwise", () => {
  assert.deepEqual(parse(["--demo"]), {
    source: { kind: "demo" },
    port: 8927,
    host: "0.0.0.0",
    name: "Sendspin Server",
    workers: 1,
    clients: [],
    logLevel: "INFO",
    opusBitrate: 128_000,
    maxClients: 1_000,
    portPerWorker: false,
    guests: "open",
    legacy: true,
    mdns: true,
    shuffle: false,
    once: false,
    pair: [],
  });
});

Deno.test("the settings file beats the defaults", () => {
  const settings: Settings = {
    name: "Kitchen",
    log_level: "debug",
    listen_port: 9000,
    source: "from-settings.mp3",
    clients: ["ws://192.168.1.20:8928/sendspin", "cast://tv.local:8009"],
  };
  assert.deepEqual(parse([], settings), {
    source: { kind: "file", path: "from-settings.mp3" },
    port: 9000,
    host: "0.0.0.0",
    name: "Kitchen",
    workers: 1,
    clients: ["ws://192.168.1.20:8928/sendspin", "cast://tv.local:8009"],
    logLevel: "DEBUG",
    opusBitrate: 128_000,
    maxClients: 1_000,
    portPerWorker: false,
    guests: "open",
    legacy: true,
    mdns: true,
    shuffle: false,
    once: false,
    pair: [],
  });
});

Deno.test("flags beat the settings file, in both --opt value and --opt=value forms", () => {
  const settings: Settings = {
    name: "Kitchen",
    log_level: "ERROR",
    listen_port: 9000,
    source: "from-settings.mp3",
    clients: ["ws://settings:1"],
  };
  const expected: ServeConfig = {
    source: { kind: "file", path: "song.mp3" },
    port: 8080,
    host: "192.168.1.5",
    name: "Garden",
    workers: 1,
    clients: ["wss://flag:2/sendspin"],
    logLevel: "WARNING",
    opusBitrate: 96_000,
    maxClients: 50,
    portPerWorker: false,
    guests: "open",
    legacy: true,
    mdns: true,
    shuffle: false,
    once: false,
    pair: [],
  };
  const spaced = [
    "--port",
    "8080",
    "--host",
    "192.168.1.5",
    "--name",
    "Garden",
    "--log-level",
    "warning",
    "--client",
    "wss://flag:2/sendspin",
    "--opus-bitrate",
    "96",
    "--max-clients",
    "50",
    "song.mp3",
  ];
  const joined = [
    "song.mp3",
    "--port=8080",
    "--host=192.168.1.5",
    "--name=Garden",
    "--log-level=Warning",
    "--client=wss://flag:2/sendspin",
    "--opus-bitrate=96",
    "--max-clients=50",
  ];
  assert.deepEqual(parse(spaced, settings), expected);
  assert.deepEqual(parse(joined, settings), expected);
});

Deno.test("--demo beats SOURCE, which beats the settings source", () => {
  const settings: Settings = { source: "from-settings.mp3" };
  assert.deepEqual(parse(["--demo", "song.mp3"], settings).source, { kind: "demo" });
  assert.deepEqual(parse(["song.mp3"], settings).source, { kind: "file", path: "song.mp3" });
  assert.deepEqual(parse([], settings).source, { kind: "file", path: "from-settings.mp3" });
  // --demo overrides a saved device too, without checking the device.
  assert.deepEqual(
    parse(["--demo"], { source: "hw:9", source_format: "alsa" }).source,
    { kind: "demo" },
  );
});

Deno.test("sources are told apart: file, URL of any scheme, file URL, device", () => {
  assert.deepEqual(parse(["/music/party.flac"]).source, {
    kind: "file",
    path: "/music/party.flac",
  });
  assert.deepEqual(parse(["file:///music/party.flac"]).source, {
    kind: "file",
    path: "/music/party.flac",
  });
  for (const url of ["http://radio.example/live.mp3", "https://x/y.m3u8", "rtsp://cam/1"]) {
    assert.deepEqual(parse([url]).source, { kind: "url", url });
  }
  assert.deepEqual(parse(["--source-format", "alsa", "hw:0"]).source, {
    kind: "device",
    format: "alsa",
    input: "hw:0",
  });
  assert.deepEqual(parse(["--source-format=pulse", "default"]).source, {
    kind: "device",
    format: "pulse",
    input: "default",
  });
});

Deno.test("source_format from settings applies to the settings source only", () => {
  const settings: Settings = { source: "hw:1", source_format: "alsa" };
  assert.deepEqual(parse([], settings).source, { kind: "device", format: "alsa", input: "hw:1" });
  assert.deepEqual(parse(["song.mp3"], settings).source, { kind: "file", path: "song.mp3" });
  // The flag applies to the settings source as well.
  assert.deepEqual(
    parse(["--source-format", "pulse"], { source: "default" }).source,
    { kind: "device", format: "pulse", input: "default" },
  );
});

Deno.test("--client is repeatable and replaces the settings list", () => {
  const config = parse(
    ["--demo", "--client", "ws://a:1/sendspin", "--client=cast://10.0.0.7", "--client", "wss://b"],
    { clients: ["ws://settings:1"] },
  );
  assert.deepEqual(config.clients, ["ws://a:1/sendspin", "cast://10.0.0.7", "wss://b"]);
});

Deno.test("odd but valid command lines", () => {
  // The last of a repeated option wins, as with argparse.
  assert.equal(parse(["--demo", "--port", "1", "--port", "65535"]).port, 65535);
  // After "--" everything is SOURCE, even a name that looks like an option.
  EXISTING.add("--weird.mp3");
  assert.deepEqual(parse(["--", "--weird.mp3"]).source, { kind: "file", path: "--weird.mp3" });
  // A value may start with "-" when written inline.
  assert.equal(parse(["--demo", "--name=-DJ-"]).name, "-DJ-");
  // IPv6 bind addresses, with or without brackets; host names.
  assert.equal(parse(["--demo", "--host", "[::]"]).host, "::");
  assert.equal(parse(["--demo", "--host", "::1"]).host, "::1");
  assert.equal(parse(["--demo", "--host", "party.local"]).host, "party.local");
  assert.equal(parse(["--demo", "--workers", "4"]).workers, 4);
  assert.equal(parse(["--demo", "--log-level", "critical"]).logLevel, "CRITICAL");
});

Deno.test("-h and --help ask for help, whatever else is on the line", () => {
  for (const args of [["-h"], ["--help"], ["--foo", "--help"], ["--workers", "0", "-h"]]) {
    assert.deepEqual(parseServeArgs(args, { fileExists }), { help: true });
  }
});

Deno.test("the help text shows usage, every option, defaults, the settings file and examples", () => {
  assert.match(SERVE_HELP, /^Usage: sendspin serve \[SOURCE\] \[options\]/);
  for (const option of SERVE_OPTION_NAMES) assert.ok(SERVE_HELP.includes(option), option);
  assert.ok(SERVE_HELP.includes("-h, --help"));
  for (const fact of ["8927", "0.0.0.0", "Sendspin Server", "INFO", "(default: 1)"]) {
    assert.ok(SERVE_HELP.includes(fact), fact);
  }
  assert.ok(SERVE_HELP.includes(SETTINGS_PATH_HINT));
  for (const key of ["name", "log_level", "listen_port", "source", "source_format", "clients"]) {
    assert.ok(SERVE_HELP.includes(key), key);
  }
  assert.match(SERVE_HELP, /beats the settings file, which\s+beats the default/);
  assert.match(SERVE_HELP, /Examples:\n {2}sendspin serve --demo/);
  assert.ok(SERVE_HELP.split("\n").every((line) => line.length <= 100), "fits a wide terminal");
});

Deno.test("edge's help shows its usage and every option it takes", () => {
  assert.match(EDGE_HELP, /^Usage: sendspin edge NATS_URL \[options\]/);
  for (const option of EDGE_OPTION_NAMES) assert.ok(EDGE_HELP.includes(option), option);
  assert.ok(EDGE_HELP.split("\n").every((line) => line.length <= 100), "fits a wide terminal");
});

Deno.test("a real source is checked on disk: file and folder yes, missing no", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/song.mp3`;
    Deno.writeFileSync(file, new Uint8Array(4));
    const config = parseServeArgs([file]);
    assert.ok(!("help" in config));
    assert.deepEqual(config.source, { kind: "file", path: file });
    const folder = parseServeArgs([dir]);
    assert.ok(!("help" in folder));
    assert.deepEqual(folder.source, { kind: "folder", path: dir });
    const list = `${dir}/party.m3u8`;
    Deno.writeFileSync(list, new Uint8Array(0));
    const playlist = parseServeArgs([list, "--shuffle", "--once"]);
    assert.ok(!("help" in playlist));
    assert.deepEqual(playlist.source, { kind: "playlist", path: list });
    assert.deepEqual([playlist.shuffle, playlist.once], [true, true]);
    for (const path of [`${dir}/missing.mp3`]) {
      assert.throws(
        () => parseServeArgs([path]),
        (error) =>
          error instanceof ConfigError &&
          error.message.startsWith(`SOURCE is not an existing file: "${path}"`),
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// ---- the settings file ----

function notFound(): never {
  throw new Deno.errors.NotFound("No such file or directory (os error 2)");
}

Deno.test("a missing settings file gives no settings and no warning", () => {
  assert.deepEqual(readSettings({ home: "/home/dj", readTextFile: notFound }), {
    settings: {},
    warnings: [],
  });
  assert.deepEqual(readSettings({ home: "" }), { settings: {}, warnings: [] });
});

Deno.test("the settings file is read from ~/.config/sendspin/settings-serve.json", () => {
  const home = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${home}/.config/sendspin`, { recursive: true });
    Deno.writeTextFileSync(
      `${home}/.config/sendspin/settings-serve.json`,
      JSON.stringify({
        name: "Kitchen",
        listen_port: 9000,
        source: "~/Music/party.flac",
        source_format: null, // the reference saves unset keys as null
        clients: [],
        player_volume: 25, // keys of other modes are ignored
      }),
    );
    assert.deepEqual(readSettings({ home: `${home}/` }), {
      settings: {
        name: "Kitchen",
        listen_port: 9000,
        source: `${home}/Music/party.flac`,
        clients: [],
      },
      warnings: [],
    });
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("a broken settings file is a warning, never a crash", () => {
  const path = "/home/dj/.config/sendspin/settings-serve.json";
  const read = (text: string) => readSettings({ home: "/home/dj", readTextFile: () => text });

  const broken = read("{ name: Kitchen");
  assert.deepEqual(broken.settings, {});
  assert.equal(broken.warnings.length, 1);
  assert.ok(broken.warnings[0].startsWith(`Settings file ${path} is not valid JSON (`));
  assert.ok(broken.warnings[0].endsWith("); using defaults"));

  for (const text of ["[1, 2]", "null", '"text"']) {
    assert.deepEqual(read(text), {
      settings: {},
      warnings: [`Settings file ${path} must hold a JSON object; using defaults`],
    });
  }

  const unreadable = readSettings({
    home: "/home/dj",
    readTextFile: () => {
      throw new Deno.errors.PermissionDenied("Permission denied (os error 13)");
    },
  });
  assert.deepEqual(unreadable, {
    settings: {},
    warnings: [
      `Cannot read settings file ${path}: Permission denied (os error 13); using defaults`,
    ],
  });
});

Deno.test("settings keys of the wrong type are left out with a warning each", () => {
  const path = "/home/dj/.config/sendspin/settings-serve.json";
  const text = JSON.stringify({
    name: 5,
    log_level: "debug",
    listen_port: "8927",
    source: "song.mp3",
    source_format: ["alsa"],
    clients: ["ws://a:1", 3],
  });
  const { settings, warnings } = readSettings({ home: "/home/dj", readTextFile: () => text });
  assert.deepEqual(settings, { log_level: "debug", source: "song.mp3" });
  assert.deepEqual(warnings, [
    `Settings file ${path}: "name" must be a string (got 5); ignored`,
    `Settings file ${path}: "listen_port" must be a number (got "8927"); ignored`,
    `Settings file ${path}: "source_format" must be a string (got ["alsa"]); ignored`,
    `Settings file ${path}: "clients" must be a list of strings (got ["ws://a:1",3]); ignored`,
  ]);
  // What is left still makes a valid config, with defaults where keys were dropped.
  const config = parse([], settings);
  assert.equal(config.port, 8927);
  assert.equal(config.name, "Sendspin Server");
  assert.equal(config.logLevel, "DEBUG");
  assert.deepEqual(config.source, { kind: "file", path: "song.mp3" });
});

Deno.test({
  name: "without read permission the source check is a ConfigError, not a crash",
  permissions: { read: false },
  fn: () => {
    assert.throws(
      () => parseServeArgs(["/etc/hostname"]),
      (error) =>
        error instanceof ConfigError &&
        error.message.startsWith('Cannot check the source file "/etc/hostname": '),
    );
  },
});

Deno.test({
  name: "without env or read permission the settings file is a warning, not a crash",
  permissions: { env: false, read: false },
  fn: () => {
    const noEnv = readSettings();
    assert.deepEqual(noEnv.settings, {});
    assert.equal(noEnv.warnings.length, 1);
    assert.match(noEnv.warnings[0], /^Cannot find the settings file: /);

    const noRead = readSettings({ home: "/home/dj" });
    assert.deepEqual(noRead.settings, {});
    assert.equal(noRead.warnings.length, 1);
    assert.match(
      noRead.warnings[0],
      /^Cannot read settings file \/home\/dj\/\.config\/sendspin\/settings-serve\.json: .*; using defaults$/,
    );
  },
});

Deno.test("harness flags: --server-id, --no-mdns and --summary", () => {
  const plain = parse(["--demo"]);
  assert.equal(plain.serverId, undefined);
  assert.equal(plain.mdns, true);
  assert.equal(plain.summary, undefined);
  const harness = parse([
    "--demo",
    "--server-id",
    "conformance-1",
    "--no-mdns",
    "--summary",
    "s.json",
  ]);
  assert.equal(harness.serverId, "conformance-1");
  assert.equal(harness.mdns, false);
  assert.equal(harness.summary, "s.json");
  assert.match(parseError(["--demo", "--server-id", "has space"]), /--server-id must be 1 to 128/);
  assert.match(parseError(["--demo", "--server-id="]), /--server-id must be 1 to 128/);
  assert.match(parseError(["--demo", "--no-mdns=yes"]), /--no-mdns takes no value/);
});

Deno.test("serve --edges takes a NATS URL; NATS options go with it; --party is an edge's", () => {
  const config = parse(["--demo", "--edges", "nats://origin:pw@10.0.0.5"]);
  assert.deepEqual(config.edges?.servers, ["10.0.0.5:4222"]);
  assert.equal(config.edges?.credentials, "user origin");
  assert.throws(() => parse(["--demo", "--nats-ca", "ca.pem"]), /go with --edges/);
  assert.throws(() => parse(["--demo", "--party", "abc"]), /--party is for sendspin edge/);
  assert.throws(() => parse(["--demo", "--edges", "http://x"]), /nats:\/\/ or tls:\/\/ URL/);
});

Deno.test("edge: a NATS URL and the room's options; the source's options are the origin's", () => {
  const config = parseEdgeArgs(["nats://10.0.0.5:4333", "--workers", "2", "--party", "Ab_c-1"]);
  assert.ok(!("help" in config));
  assert.deepEqual(config.origin.servers, ["10.0.0.5:4333"]);
  assert.equal(config.workers, 2);
  assert.equal(config.party, "Ab_c-1");
  assert.equal(config.nameGiven, false);
  const named = parseEdgeArgs(["nats://h", "--name", "Floor 2"]);
  assert.ok(!("help" in named) && named.nameGiven && named.name === "Floor 2");
  assert.deepEqual(parseEdgeArgs(["--help"]), { help: true });
  for (
    const [args, message] of [
      [[], /needs the party's NATS server/],
      [["nats://a", "nats://b"], /only one NATS URL/],
      [["nats://h", "--demo"], /--demo is for sendspin serve/],
      [["nats://h", "--shuffle"], /--shuffle is for sendspin serve/],
      [["nats://h", "--edges", "nats://x"], /--edges is for sendspin serve/],
      [["nats://h", "--party", "a.b"], /--party must be a party id/],
    ] as [string[], RegExp][]
  ) {
    assert.throws(() => parseEdgeArgs(args), (error: Error) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
});
