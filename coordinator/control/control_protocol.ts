/**
 * The control channel between `sendspin pair` / `sendspin clients` and the running server:
 * a Unix socket in the settings folder, which only its owner can enter (the folder is 0700,
 * the socket 0600), so no guest on the network and no other user of the machine reaches it.
 * The client sends one JSON line `{"command": ...}`, a console command; the server answers
 * with JSON lines `{"line": ...}` and a last `{"done": true, "ok": ...}`.
 */
export const CONTROL_SOCKET = "control.sock";

export interface ControlRequest {
  command: string;
}

export type ControlReply = { line: string } | { done: true; ok: boolean };

/** How long `sendspin pair` waits for the pairing to finish (the client's attempt is 2 min). */
export const PAIR_WAIT_MS = 180_000;
