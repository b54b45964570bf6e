/**
 * Tests that need something this machine may lack (a program such as ffmpeg or Chromium,
 * root) are marked ignored with Deno.test's `ignore`, decided before any test runs, and the
 * reason is printed once: never an early `return` inside the test, which reports a pass.
 *
 *     const noFfmpeg = ignoreUnless(await hasFfmpeg(), "ffmpeg is not on PATH: ...");
 *     Deno.test({ name: "...", ignore: noFfmpeg, fn: async () => {...} });
 */
export function ignoreUnless(available: boolean, reason: string): boolean {
  if (!available) console.log(`skipping: ${reason}`);
  return !available;
}
