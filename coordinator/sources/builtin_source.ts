/**
 * Files and http(s) URLs through the built-in decoders, for machines without ffmpeg.
 * Radio streams ask for ICY metadata so stream titles reach the page.
 */
import type { TrackTags } from "../../protocol/tags.ts";
import type { SourceSpec } from "../config.ts";
import type { AudioBlock } from "../../protocol/pcm.ts";
import { stripIcyMetadata } from "../decode/icy.ts";
import { SourceError } from "./source_error.ts";

export interface BuiltinSourceOptions {
  signal: AbortSignal;
  onTags: (tags: TrackTags) => void;
}

export async function* decodeBuiltinSource(
  spec: SourceSpec & { kind: "file" | "url" },
  options: BuiltinSourceOptions,
): AsyncGenerator<AudioBlock> {
  const bytes = spec.kind === "file" ? await openFile(spec.path) : await openUrl(spec.url, options);
  // The decoders (WebAssembly, some 11 MiB) load only for a source that needs them.
  const { decodeBuiltin } = await import("../decode/builtin.ts");
  yield* decodeBuiltin(bytes, options);
}

async function openFile(path: string): Promise<AsyncIterable<Uint8Array>> {
  try {
    return (await Deno.open(path)).readable;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SourceError(`the file ${path} does not exist (any more)`);
    }
    throw new SourceError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

async function openUrl(
  url: string,
  options: BuiltinSourceOptions,
): Promise<AsyncIterable<Uint8Array>> {
  if (!/^https?:\/\//i.test(url)) {
    throw new SourceError(`only http(s) URLs play without ffmpeg: install ffmpeg for ${url}`);
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: { "Icy-MetaData": "1" }, signal: options.signal });
  } catch (error) {
    throw new SourceError(`cannot reach ${url}: ${networkReason(error)}`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new SourceError(`${url} answered HTTP ${response.status} ${response.statusText}`);
  }
  const metaint = Number(response.headers.get("icy-metaint"));
  if (Number.isInteger(metaint) && metaint > 0) {
    return stripIcyMetadata(response.body, metaint, options);
  }
  return response.body;
}

/** fetch's errors nest the useful part ("Connection refused") inside long text. */
function networkReason(error: unknown): string {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  for (const reason of ["Connection refused", "timed out", "dns error", "certificate"]) {
    if (text.toLowerCase().includes(reason.toLowerCase())) return reason.toLowerCase();
  }
  return error instanceof Error ? error.message : String(error);
}
