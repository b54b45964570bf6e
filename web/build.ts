/**
 * Builds the player page into web/dist/: bundles web/src/app.ts with its npm packages
 * (sendspin-js, qrcode-generator) into one app.js, so the page loads nothing from any
 * other host, and copies the static files beside it.
 *
 *   deno run --unstable-bundle --allow-read=. --allow-write=web/dist web/build.ts
 *
 * Run from the repository root. Output is deterministic: same sources, same bytes.
 */
const SRC = new URL("./src/", import.meta.url);
const DIST = new URL("./dist/", import.meta.url);
const ENTRY = new URL("app.ts", SRC);
const STATIC_FILES = ["index.html", "style.css", "favicon.svg"];

interface BundleMessage {
  text: string;
  location?: { file: string; line: number; column: number } | null;
}

async function bundle(): Promise<Uint8Array> {
  // Deno.bundle is behind --unstable-bundle; the type is declared here so `deno check`
  // passes without the unstable types.
  const api = (Deno as unknown as {
    bundle?: (options: Record<string, unknown>) => Promise<{
      success: boolean;
      errors: BundleMessage[];
      outputFiles?: { contents: Uint8Array }[];
    }>;
  }).bundle;
  if (!api) throw new Error("Cannot bundle without Deno.bundle: run with --unstable-bundle");
  const result = await api({
    entrypoints: [ENTRY.href],
    platform: "browser",
    format: "esm",
    minify: true,
    write: false,
  });
  if (!result.success || result.outputFiles?.length !== 1) {
    const first = result.errors[0];
    const where = first?.location
      ? ` (${first.location.file}:${first.location.line}:${first.location.column})`
      : "";
    const text = firstLine(first?.text ?? "no output file");
    throw new Error(`Cannot bundle app.ts: ${text}${where}`);
  }
  return result.outputFiles[0].contents;
}

/** esbuild messages span lines and carry colour codes; the summary is one plain line. */
function firstLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "").split("\n")[0].trim();
}

async function main(): Promise<void> {
  const app = await bundle();
  await Deno.remove(DIST, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await Deno.mkdir(DIST, { recursive: true });
  await Deno.writeFile(new URL("app.js", DIST), app);
  let bytes = app.byteLength;
  for (const name of STATIC_FILES) {
    const data = await Deno.readFile(new URL(name, SRC));
    await Deno.writeFile(new URL(name, DIST), data);
    bytes += data.byteLength;
  }
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `web/dist: app.js ${kib(app.byteLength)} + ${STATIC_FILES.join(", ")} (${kib(bytes)} total)`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`web build failed: ${firstLine(message)}`);
    Deno.exit(1);
  }
}
