/// <reference lib="dom" />
/** Who this tab is to the server: a stable player id and a name a host can read. */

/** A per-tab id (kept across reloads of the tab) and a readable name for the server. */
export function guestIdentity(): { playerId: string; clientName: string } {
  const key = "sendspin-party-player-id";
  const id = readSession(key) ?? randomHex(6);
  writeSession(key, id);
  return { playerId: `party-${id}`, clientName: `Party guest ${id.slice(0, 4)}` };
}

function randomHex(byteCount: number): string {
  // crypto.randomUUID needs a secure context; a party on plain http has none.
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Storage throws in some private modes; the id then lives as long as the page.
function readSession(key: string): string | undefined {
  try {
    return sessionStorage.getItem(key) ?? undefined;
  } catch (error) {
    console.warn("Cannot read sessionStorage:", error);
    return undefined;
  }
}

function writeSession(key: string, value: string): void {
  try {
    sessionStorage.setItem(key, value);
  } catch (error) {
    console.warn("Cannot write sessionStorage:", error);
  }
}
