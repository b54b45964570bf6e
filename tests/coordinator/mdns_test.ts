/**
 * mDNS, run as a user would run the program, inside a network namespace this test creates
 * (loopback only, multicast on), so no multicast leaves the machine: a DNS-SD browser finds
 * the party with its TXT record, and sees it withdrawn on Ctrl+C. Without multicast, the
 * server says so once and plays on. With --no-mdns, nothing is announced. Needs root and `ip`: without them both tests are
 * ignored, with the reason printed once.
 */
import assert from "node:assert/strict";
import { SERVICE_TYPE } from "../../coordinator/discovery/mdns.ts";
import { taskArgs } from "../support/program.ts";
import { ignoreUnless } from "../support/skip.ts";
import { until } from "../support/until.ts";

const ROOT = new URL("../../", import.meta.url);
const BROWSER = new URL("./fixtures/mdns_browse.ts", import.meta.url).pathname;

async function ip(...args: string[]): Promise<{ ok: boolean; error: string }> {
  try {
    const out = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
    return { ok: out.success, error: new TextDecoder().decode(out.stderr).trim() };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Why this machine cannot give the tests a network namespace, or undefined if it can. */
async function whyNoNamespaces(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "needs root to create a network namespace";
  const probe = `sendspin-probe-${Deno.pid}`;
  const created = await ip("netns", "add", probe);
  if (!created.ok) return `cannot create a network namespace (ip netns add: ${created.error})`;
  await ip("netns", "del", probe);
  return undefined;
}

const whyNot = await whyNoNamespaces();
const opts = { ignore: ignoreUnless(whyNot === undefined, `the mDNS tests: ${whyNot}`) };

/** A fresh namespace: with `network`, loopback up with the multicast flag and route. */
async function namespace(network: boolean): Promise<string> {
  const name = `sendspin-test-${Deno.pid}-${network ? "lo" : "none"}`;
  const steps = [["netns", "add", name]];
  if (network) {
    steps.push(
      ["-n", name, "link", "set", "lo", "up"],
      ["-n", name, "link", "set", "lo", "multicast", "on"],
      ["-n", name, "route", "add", "224.0.0.0/4", "dev", "lo"],
    );
  }
  for (const step of steps) {
    const done = await ip(...step);
    if (done.ok) continue;
    if (step !== steps[0]) await ip("netns", "del", name);
    throw new Error(`ip ${step.join(" ")} failed: ${done.error}`);
  }
  return name;
}

/** The program's own home folder, which its task flags name (`--allow-write=$HOME/...`). */
const HOME = Deno.makeTempDirSync();

function inNamespace(name: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command("ip", {
    args: ["netns", "exec", name, Deno.execPath(), ...args],
    cwd: ROOT,
    env: { HOME },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Collects a stream's lines; `next(test)` waits for the first line passing `test`. */
function lines(stream: ReadableStream<Uint8Array>) {
  const seen: string[] = [];
  (async () => {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      seen.push(...parts);
    }
  })();
  return {
    seen,
    next: async (what: string, test: (line: string) => boolean, ms = 15_000) => {
      await until(what, () => seen.some(test), { ms, seen: () => `\n${seen.join("\n")}` });
      return seen.find(test)!;
    },
  };
}

const serveArgs = (name: string) => [
  ...taskArgs("sendspin", HOME),
  "serve",
  "--demo",
  "--host",
  "127.0.0.1",
  "--port",
  "8927",
  "--name",
  name,
];

Deno.test(
  "mDNS: a browser finds the party (once for two workers) with its TXT record, then its goodbye",
  opts,
  async (t) => {
    const ns = await namespace(true);
    // Two workers share the port: the coordinator advertises once for both.
    const server = inNamespace(ns, [...serveArgs("Netns Party"), "--workers", "2"]);
    const serverOut = lines(server.stdout);
    const serverErr = lines(server.stderr);
    const browser = inNamespace(ns, ["run", "--allow-net", "--allow-sys", "--allow-read", BROWSER]);
    const found = lines(browser.stdout);
    lines(browser.stderr);
    try {
      await serverOut.next("the banner", (line) => line.includes("http://127.0.0.1:8927/"));
      const line = await found.next("the service", (l) => l.startsWith('{"instance"'));
      const service = JSON.parse(line);
      await t.step("the instance is of our type, on our port and address", () => {
        assert.ok(service.instance.endsWith(`.${SERVICE_TYPE}`), service.instance);
        assert.equal(service.SRV.port, 8927);
        assert.equal(service.A, "127.0.0.1");
      });
      await t.step("TXT names the path and the party", () => {
        assert.deepEqual(service.TXT.sort(), ["name=Netns Party", "path=/sendspin"]);
      });
      await t.step("one instance for the two workers", async () => {
        // Measured, not waited for: a window of three more queries, in which a second
        // announcer (the other worker) would answer too.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const instances = found.seen.filter((l) => l.startsWith('{"instance"'))
          .map((l) => JSON.parse(l).instance);
        assert.ok(instances.length >= 3, `answers: ${instances.length}`);
        assert.deepEqual([...new Set(instances)], [service.instance]);
      });
      server.kill("SIGINT");
      const goodbye = JSON.parse(
        await found.next("the goodbye", (l) => l.startsWith('{"goodbye"')),
      );
      assert.equal(goodbye.goodbye, service.instance);
      assert.equal((await server.status).code, 0);
      assert.ok(
        !serverErr.seen.some((l) => /mDNS|WARNING|ERROR/.test(l)),
        serverErr.seen.join("\n"),
      );
    } finally {
      try {
        server.kill("SIGKILL");
      } catch { /* exited */ }
      browser.kill("SIGKILL");
      await Promise.allSettled([server.status, browser.status]);
      await ip("netns", "del", ns);
    }
  },
);

Deno.test("--no-mdns: the party plays and a browser finds nothing", opts, async () => {
  const ns = await namespace(true);
  const server = inNamespace(ns, [...serveArgs("Hidden Party"), "--no-mdns"]);
  const serverOut = lines(server.stdout);
  lines(server.stderr);
  const browser = inNamespace(ns, ["run", "--allow-net", "--allow-sys", "--allow-read", BROWSER]);
  const found = lines(browser.stdout);
  lines(browser.stderr);
  try {
    await serverOut.next("the banner", (line) => line.includes("http://127.0.0.1:8927/"));
    // Measured, not waited for: the browser queries every 500 ms; an announcer would answer.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(found.seen.filter((l) => l.startsWith('{"instance"')).length, 0);
    server.kill("SIGINT");
    assert.equal((await server.status).code, 0);
  } finally {
    try {
      server.kill("SIGKILL");
    } catch { /* exited */ }
    browser.kill("SIGKILL");
    await Promise.allSettled([server.status, browser.status]);
    await ip("netns", "del", ns);
  }
});

Deno.test("mDNS without a network: one warning, and the party plays on", opts, async (t) => {
  const ns = await namespace(false);
  // Loopback is down: no address to announce (the default host), or none to join the group on.
  const cases = [
    { host: [], url: "http://127.0.0.1:8927/", why: /no network address/ },
    {
      host: ["--host", "127.0.0.1"],
      url: "http://127.0.0.1:8927/",
      why: /multicast group.*EINVAL/,
    },
    // Another program holds UDP 5353 without sharing it (this once crashed the server).
    {
      host: ["--host", "127.0.0.1"],
      url: "http://127.0.0.1:8927/",
      why: /UDP port 5353 is held/,
      holdPort: true,
    },
  ];
  try {
    for (const { host, url, why, holdPort } of cases) {
      const label = (host.join(" ") || "default host") + (holdPort ? ", port 5353 taken" : "");
      await t.step(label, async () => {
        const holder = holdPort
          ? inNamespace(ns, [
            "eval",
            "--unstable-net",
            'Deno.listenDatagram({ port: 5353, hostname: "0.0.0.0", transport: "udp" }); console.log("held"); setTimeout(() => {}, 60_000)',
          ])
          : undefined;
        if (holder) await lines(holder.stdout).next("port 5353 held", (line) => line === "held");
        const server = inNamespace(ns, [
          ...serveArgs("Quiet Party").filter((a) => a !== "--host" && a !== "127.0.0.1"),
          ...host,
        ]);
        const serverOut = lines(server.stdout);
        const serverErr = lines(server.stderr);
        try {
          await serverOut.next("the banner", (line) => line.includes(url));
          const warning = await serverErr.next("the warning", (line) => line.includes("mDNS"));
          assert.match(
            warning,
            /^WARNING: not announced on the network \(mDNS: .+\); guests can still open the URL$/,
          );
          assert.match(warning, why);
          // Measured, not waited for: 2 s more of running, in which no second warning comes.
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          assert.equal(
            serverErr.seen.filter((line) => line.includes("mDNS")).length,
            1,
            "one line",
          );
          server.kill("SIGINT");
          assert.equal((await server.status).code, 0, "it was still running, and stops cleanly");
        } finally {
          try {
            server.kill("SIGKILL");
          } catch { /* exited */ }
          await server.status.catch(() => {});
          holder?.kill("SIGKILL");
          await holder?.status;
        }
      });
    }
  } finally {
    await ip("netns", "del", ns);
  }
});
