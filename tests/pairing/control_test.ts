/**
 * `sendspin pair` and `sendspin clients` reach the running server over a Unix socket in the
 * settings folder that only its owner can open; without a server they say so in one line.
 */
import assert from "node:assert/strict";
import { startParty } from "../support/party_process.ts";
import { runProgram } from "../support/program.ts";
import { opts, Speaker } from "./support.ts";

Deno.test("without a running server, pair and clients say so in one line and exit 1", async () => {
  const home = Deno.makeTempDirSync();
  for (const args of [["pair", "SP:0AAAA"], ["clients"]]) {
    const { code, stdout, stderr } = await runProgram(args, { home });
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(
      stderr,
      /^error: no sendspin server is running for this user .*start "sendspin serve" first\n$/,
    );
  }
  const usage = await runProgram(["clients", "frobnicate"], { home });
  assert.equal(usage.code, 1);
  assert.match(
    usage.stderr,
    /^usage: sendspin clients \[list \| approve ID \| revoke ID \| unpair ID\]/,
  );
});

Deno.test(
  "the control socket is the owner's only; clients lists, approves and revokes",
  opts,
  async () => {
    const home = Deno.makeTempDirSync();
    const party = await startParty(["--demo", "--guests", "ask"], { home });
    const guest = new Speaker("Phone", { unpairedAccess: true });
    try {
      const folder = `${home}/.config/sendspin`;
      assert.equal(Deno.statSync(folder).mode! & 0o777, 0o700);
      assert.equal(Deno.statSync(`${folder}/control.sock`).mode! & 0o777, 0o600);
      const client = await guest.connect(party.url);
      const listed = await runProgram(["clients"], { home });
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(
        listed.stdout,
        /\[1\] "Phone" \(id .{43}\) not paired, not approved, waits for approval/,
      );
      const approved = await runProgram(["clients", "approve", "1"], { home });
      assert.match(approved.stdout, /^approved "Phone"/);
      await client.waitFor("playback", () => client.chunks.length > 5);
      const revoked = await runProgram(["clients", "revoke", client.clientId.slice(0, 8)], {
        home,
      });
      assert.match(revoked.stdout, /^revoked "Phone"/);
      const unknown = await runProgram(["clients", "unpair", "zzzz"], { home });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stdout, /no single paired client starts with "zzzz"/);
      const token = await runProgram(["pair", "SP:0NOPE"], { home });
      assert.equal(token.code, 1);
      assert.match(token.stdout, /token/);
    } finally {
      await guest.disconnect();
      assert.equal(await party.stop(), 0, party.log());
    }
    assert.throws(() => Deno.statSync(`${home}/.config/sendspin/control.sock`), "removed at exit");
  },
);
