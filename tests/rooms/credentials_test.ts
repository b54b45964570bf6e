/**
 * Every way of proving who we are to NATS, against a real nats-server that demands it: a
 * token in the URL, an nkey seed in a credentials file, and TLS with our own CA (openssl
 * makes a certificate for the test) and a user:password file. Each time the origin and an
 * edge join up and the edge plays.
 */
import assert from "node:assert/strict";
import { nkeys } from "@nats-io/transport-node";
import { TestClient } from "../support/sendspin_client.ts";
import { runProgram } from "../support/program.ts";
import { ignoreUnless } from "../support/skip.ts";
import {
  type NatsServer,
  needsNats,
  startEdge,
  startNatsServer,
  startParty,
} from "./rooms_support.ts";

async function hasOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}
const noOpenssl = ignoreUnless(await hasOpenssl(), "the TLS rooms test: openssl is not installed");

/** The origin and an edge on `nats` with these arguments each: the edge's listener plays. */
async function partyOver(nats: NatsServer, url: string, origin: string[], edge: string[]) {
  const host = await startParty(["--demo", "--no-mdns", "--edges", url, ...origin]);
  const room = await startEdge(url, edge);
  const listener = await TestClient.connect(room.url, { name: "edge listener" });
  try {
    await listener.waitFor("the edge plays", () => listener.chunks.length >= 10);
    assert.match(host.log(), /Edge joined/);
  } finally {
    await listener.close();
    await room.stop();
    await host.stop();
    await nats.stop();
  }
}

function secretFile(text: string): string {
  const path = Deno.makeTempFileSync({ suffix: ".creds" });
  Deno.writeTextFileSync(path, text, { mode: 0o600 });
  return path;
}

Deno.test({
  name: "a token in the URL, and an nkey seed in --nats-creds",
  ...needsNats,
  fn: async () => {
    const token = crypto.randomUUID();
    const withToken = await startNatsServer({ token });
    const url = `nats://${token}@${withToken.host}:${withToken.port}`;
    await partyOver(withToken, url, [], []);

    const origin = nkeys.createUser();
    const edge = nkeys.createUser();
    const withNkeys = await startNatsServer({
      nkeys: [{ publicKey: origin.getPublicKey() }, { publicKey: edge.getPublicKey() }],
    });
    const seed = (pair: typeof origin) => secretFile(new TextDecoder().decode(pair.getSeed()));
    await partyOver(withNkeys, withNkeys.url, ["--nats-creds", seed(origin)], [
      "--nats-creds",
      seed(edge),
    ]);
  },
});

Deno.test({
  name: "TLS with our own CA (tls:// and --nats-ca), user and password from a file",
  ...needsNats,
  ignore: needsNats.ignore || noOpenssl,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const made = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const nats = await startNatsServer({
      users: [{ user: "party", password: "s3cret" }],
      tls: { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` },
    });
    const creds = secretFile("party:s3cret");
    const url = `tls://${nats.host}:${nats.port}`;
    // Without our CA its certificate is not trusted: one line, exit 1.
    const untrusted = await runProgram(["edge", url, "--no-mdns", "--nats-creds", creds]);
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.stderr.trim(),
      /^error: NATS at tls:\/\/127\.0\.0\.1:\d+: TLS failed \([^\n]*\)[^\n]*$/,
    );
    const tls = ["--nats-ca", `${dir}/cert.pem`, "--nats-creds", creds];
    await partyOver(nats, url, tls, tls);
  },
});
