/**
 * A worker runs with the narrowest permissions that let it serve: it may listen and read
 * the page's folder, nothing else. The probe runs with exactly the flags the coordinator
 * gives a worker process, and tries the rest.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { workerCommandLine } from "../../coordinator/subprocess_worker.ts";

const ASSETS = new URL("../../web/dist/", import.meta.url);
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const PROBE = fileURLToPath(new URL("./fixtures/permission_probe.ts", import.meta.url));

Deno.test("a worker process cannot run programs, read outside its assets or write", async () => {
  const args = workerCommandLine({
    index: 0,
    name: "probe",
    serverId: "probe",
    host: "127.0.0.1",
    port: 0,
    reusePort: false,
    assetsDir: fileURLToPath(ASSETS),
    logLevel: "INFO",
    opusBitrate: 128_000,
    maxClients: 10,
    dial: [],
    identityKey: "pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk",
    guests: "open",
    legacy: true,
    approved: [],
    pairings: [],
    recordClients: false,
  });
  const entry = args.indexOf(MAIN);
  assert.ok(entry > 0, "the worker command line runs main.ts");
  const flags = args.slice(0, entry);
  assert.ok(!flags.some((f) => f === "-A" || f.startsWith("--allow-all")), flags.join(" "));
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...flags, PROBE, fileURLToPath(new URL("index.html", ASSETS)), MAIN],
    cwd: Deno.makeTempDirSync(),
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
    spawn: "denied",
    readOutside: "denied",
    readEtc: "denied",
    write: "denied",
    env: "denied",
    ffi: "denied",
    readAsset: "allowed",
  });
});
