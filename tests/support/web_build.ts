/** Builds the player page (web/dist) once per test process, as `deno task build:web` does. */
import { taskArgs } from "./program.ts";

let building: Promise<void> | undefined;

export function buildWeb(): Promise<void> {
  building ??= (async () => {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: taskArgs("build:web"),
      cwd: new URL("../../", import.meta.url),
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`web build failed: ${new TextDecoder().decode(stderr)}`);
  })();
  return building;
}
