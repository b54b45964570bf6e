/**
 * The settings folder's private files (the server's key, approvals, pairings): owner-only,
 * written whole (a temporary file renamed over the old one, so a crash never leaves half a
 * key), in a folder only the owner can enter.
 */

/** `~/.config/sendspin`, or undefined without a home folder. */
export function settingsFolder(home = homeFolder()): string | undefined {
  return home ? `${home.replace(/[\\/]+$/, "")}/.config/sendspin` : undefined;
}

function homeFolder(): string | undefined {
  try {
    return Deno.env.get("HOME") ?? undefined;
  } catch {
    return undefined; // not allowed to read it: as good as none
  }
}

/** The file's text, or undefined if it does not exist. Loosened permissions are tightened. */
export function readPrivateFile(path: string): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const mode = Deno.statSync(path).mode;
  if (mode !== null && (mode & 0o077) !== 0) Deno.chmodSync(path, 0o600);
  return text;
}

export function writePrivateFile(path: string, text: string): void {
  const folder = path.slice(0, path.lastIndexOf("/"));
  Deno.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  Deno.writeTextFileSync(temporary, text, { mode: 0o600 });
  Deno.chmodSync(temporary, 0o600); // the umask may have taken bits away; never added
  Deno.renameSync(temporary, path);
}
