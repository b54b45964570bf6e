/** The program as a user runs it: the `sendspin` task's command line, real processes. */
import assert from "node:assert/strict";
import { program, runProgram } from "./support/program.ts";
import { until } from "./support/until.ts";
import { testSignal, writeTempWav } from "./support/wav.ts";

Deno.test("--help prints usage and every option, exit 0", async () => {
  const { code, stdout } = await runProgram(["serve", "--help"]);
  assert.equal(code, 0);
  for (const option of ["--demo", "--port", "--host", "--name", "--workers", "--client"]) {
    assert.ok(stdout.includes(option), `help mentions ${option}`);
  }
  for (const option of ["--source-format", "--log-level"]) assert.ok(stdout.includes(option));
});

const BAD_COMMAND_LINES: [string[], RegExp][] = [
  [["serve", "--demo", "--workers", "0"], /--workers.*"0"/],
  [["serve", "--demo", "--port", "70000"], /--port.*70000/],
  [["serve", "--demo", "--bogus"], /--bogus/],
  [["serve"], /No audio source/i],
  [["serve", "/no/such/song.mp3"], /\/no\/such\/song\.mp3/],
  [["serve", "--demo", "--log-level", "loud"], /--log-level.*loud/],
  [["serve", "--demo", "--workers", "2", "--client", "ws://127.0.0.1:8928/sendspin"], /--client/],
  [["dance"], /unknown command/],
];

for (const [args, message] of BAD_COMMAND_LINES) {
  Deno.test(`"${args.join(" ")}" exits 1 with one clear line`, async () => {
    const { code, stderr } = await runProgram(args);
    assert.equal(code, 1);
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line, got: ${stderr}`);
    assert.match(lines[0], message);
    assert.doesNotMatch(stderr, /\bat .*:\d+:\d+/, "no stack trace");
  });
}

Deno.test("an undecodable file exits 1 naming it", async () => {
  const path = Deno.makeTempFileSync({ suffix: ".mp3" });
  Deno.writeTextFileSync(path, "this is not audio at all\n".repeat(100));
  const { code, stderr } = await runProgram(["serve", path, "--port", "0"]);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`Cannot play ${path}`));
  assert.doesNotMatch(stderr, /\bat .*:\d+:\d+/);
});

Deno.test("an unreachable URL exits 1 saying why", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // nothing listens there now
  const url = `http://127.0.0.1:${port}/radio.mp3`;
  const { code, stderr } = await runProgram(["serve", url, "--port", "0"]);
  assert.equal(code, 1);
  assert.match(stderr, /Cannot play .*radio\.mp3.*(refused|failed)/i);
});

Deno.test("a port in use exits 1 saying so", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const args = ["serve", "--demo", "--host", "127.0.0.1", "--port", String(listener.addr.port)];
    const { code, stderr } = await runProgram(args);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`port ${listener.addr.port} is in use`));
  } finally {
    listener.close();
  }
});

/** Starts the server, waits for its banner, sends SIGINT, returns its exit and output. */
async function runUntilBanner(args: string[], path?: string) {
  const child = program(args, { path }).spawn();
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  let ended = false;
  const reading = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) stdout += text;
  })().finally(() => ended = true);
  try {
    await until("the banner (its last line, Press Ctrl+C)", () => {
      return stdout.includes("Press Ctrl+C") || ended;
    }, { ms: 30_000, seen: () => `stdout so far:\n${stdout}` });
  } catch (error) {
    child.kill("SIGKILL");
    await Promise.all([reading, child.status, stderr]);
    throw error;
  }
  const banner = stdout;
  const url = /http:\/\/[^\s]+/.exec(banner)?.[0];
  const stop = async () => {
    child.kill("SIGINT");
    await reading;
    return { code: (await child.status).code, stderr: await stderr };
  };
  return { stdout: banner, url, stop };
}

Deno.test("the server prints its URL, serves, and stops on Ctrl+C with exit 0", async () => {
  const { stdout, url, stop } = await runUntilBanner([
    "serve",
    "--demo",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ]);
  let code = -1;
  try {
    assert.ok(url, `banner has a URL: ${stdout}`);
    assert.match(stdout, /Press Ctrl\+C to quit/);
    const status = await (await fetch(new URL("/api/status", url))).json();
    assert.equal(status.total_clients, 0);
    const page = await fetch(url!);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Sendspin/);
  } finally {
    code = (await stop()).code;
  }
  assert.equal(code, 0);
});

Deno.test("without ffmpeg on PATH the built-in decoders play, and the log says so", async () => {
  const path = writeTempWav(testSignal(48_000));
  const { url, stop } = await runUntilBanner(
    ["serve", path, "--host", "127.0.0.1", "--port", "0"],
    Deno.makeTempDirSync(),
  );
  const { code, stderr } = await stop();
  assert.ok(url);
  assert.equal(code, 0);
  assert.match(stderr, /built-in decoder/);
  await Deno.remove(path);
});
