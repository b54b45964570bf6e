import assert from "node:assert/strict";
import { parseNatsTarget } from "../../../coordinator/rooms/nats_target.ts";
import { ConfigError } from "../../../coordinator/config.ts";

const files = (contents: Record<string, string>) => (path: string) => {
  if (!(path in contents)) throw new Deno.errors.NotFound(path);
  return new TextEncoder().encode(contents[path]);
};

Deno.test("NATS URLs: host and port, credentials kept out of what is shown, TLS", () => {
  const plain = parseNatsTarget("nats://10.0.0.5", "--edges");
  assert.deepEqual(plain.servers, ["10.0.0.5:4222"]);
  assert.equal(plain.display, "nats://10.0.0.5:4222");
  assert.equal(plain.tls, undefined);

  const user = parseNatsTarget("nats://edge:s%40cret@nats.local:4333", "--edges");
  assert.equal(user.display, "nats://nats.local:4333", "no password in what is shown");
  assert.equal(user.credentials, "user edge");
  assert.ok(user.authenticator);

  assert.equal(parseNatsTarget("nats://T0KEN@h", "x").credentials, "a token");
  assert.deepEqual(parseNatsTarget("tls://h:4443", "x").tls, {});
  const cluster = parseNatsTarget("nats://a:1,nats://b:2", "x");
  assert.deepEqual(cluster.servers, ["a:1", "b:2"]);
});

Deno.test("credentials files: .creds, nkey seed, user:password, token; CA files", () => {
  const seed = "SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU";
  const read = files({
    "/jwt": "-----BEGIN NATS USER JWT-----\neyJ...\n------END NATS USER JWT------\n",
    "/seed": `${seed}\n`,
    "/pair": "edge:hunter2\n",
    "/token": "s3cr3t\n",
    "/ca.pem": "-----BEGIN CERTIFICATE-----\n",
  });
  const kind = (credsFile: string) =>
    parseNatsTarget("nats://h", "x", { credsFile, readFile: read }).credentials;
  assert.equal(kind("/jwt"), "a .creds file");
  assert.equal(kind("/seed"), "an nkey");
  assert.equal(kind("/pair"), "user edge");
  assert.equal(kind("/token"), "a token");
  const tls = parseNatsTarget("nats://h", "x", { caFile: "/ca.pem", readFile: read });
  assert.deepEqual(tls.tls, { caFile: "/ca.pem" }, "a CA file asks for TLS");
});

Deno.test("NATS target mistakes are one line each", () => {
  const read = files({ "/empty": "\n" });
  const cases: [string, Parameters<typeof parseNatsTarget>[2], RegExp][] = [
    ["http://h:4222", {}, /must be a nats:\/\/ or tls:\/\/ URL/],
    ["nats://h:4222/party", {}, /must be nats:\/\/\[user:password@\]HOST/],
    ["nats://u:p@h", { credsFile: "/empty", readFile: read }, /either in x or with --nats-creds/],
    [
      "nats://h",
      { credsFile: "/missing", readFile: read },
      /--nats-creds \/missing cannot be read: no such file/,
    ],
    ["nats://h", { credsFile: "/empty", readFile: read }, /holds no credentials/],
    ["nats://h", { caFile: "/nope", readFile: read }, /--nats-ca \/nope cannot be read/],
    ["", {}, /needs a NATS URL/],
  ];
  for (const [url, options, message] of cases) {
    assert.throws(() => parseNatsTarget(url, "x", options), (error: Error) => {
      assert.ok(error instanceof ConfigError, `${url}: ${error}`);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  }
});
