/**
 * The server's identity: made once, kept owner-only in the settings folder, the same on
 * every start; a damaged file stops the server with one line instead of a new identity.
 */
import assert from "node:assert/strict";
import { IDENTITY_FILE, IdentityError, loadIdentity } from "../../coordinator/identity.ts";
import { runProgram } from "../support/program.ts";

Deno.test("the identity is made on first start, owner-only, and kept", () => {
  const home = Deno.makeTempDirSync();
  const folder = `${home}/.config/sendspin`;
  const first = loadIdentity(folder);
  assert.match(first.serverId, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Deno.statSync(folder).mode! & 0o777, 0o700);
  assert.equal(Deno.statSync(`${folder}/${IDENTITY_FILE}`).mode! & 0o777, 0o600);
  const again = loadIdentity(folder);
  assert.deepEqual(again, first);
});

Deno.test("an identity file others can read is made owner-only again", () => {
  const folder = Deno.makeTempDirSync();
  loadIdentity(folder);
  Deno.chmodSync(`${folder}/${IDENTITY_FILE}`, 0o644);
  loadIdentity(folder);
  assert.equal(Deno.statSync(`${folder}/${IDENTITY_FILE}`).mode! & 0o777, 0o600);
});

for (
  const [what, text] of [
    ["not JSON", "{ half"],
    ["no private_key", "{}"],
    ["a short key", '{"private_key":"AAAA","server_id":"x"}'],
    ["a server_id of another key", null],
  ] as const
) {
  Deno.test(`a damaged identity (${what}) is an error naming the file, not a new identity`, () => {
    const folder = Deno.makeTempDirSync();
    const path = `${folder}/${IDENTITY_FILE}`;
    if (text === null) {
      const { privateKey } = loadIdentity(folder);
      const other = loadIdentity(Deno.makeTempDirSync());
      Deno.writeTextFileSync(
        path,
        JSON.stringify({ private_key: privateKey, server_id: other.serverId }),
      );
    } else Deno.writeTextFileSync(path, text);
    const before = Deno.readTextFileSync(path);
    assert.throws(() => loadIdentity(folder), (error: Error) => {
      assert.ok(error instanceof IdentityError);
      assert.match(error.message, new RegExp(`${path.replaceAll("/", "\\/")} is damaged`));
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
    assert.equal(Deno.readTextFileSync(path), before, "the damaged file is left as it was");
  });
}

Deno.test("sendspin serve with a damaged identity says so in one line and exits 1", async () => {
  const home = Deno.makeTempDirSync();
  Deno.mkdirSync(`${home}/.config/sendspin`, { recursive: true });
  Deno.writeTextFileSync(`${home}/.config/sendspin/${IDENTITY_FILE}`, "garbage");
  const { code, stderr } = await runProgram(["serve", "--demo", "--port", "0"], { home });
  assert.equal(code, 1);
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^error: The server identity .* is damaged \(not JSON\): restore it/);
});
