/**
 * A session on the real legacy dialect with an in-memory socket: what the server sends is
 * recorded (text as JSON strings, audio as the bytes objects), what the test says goes in
 * as text frames stamped by the group's clock.
 */
import { LegacyConnection, legacyHandlers } from "../../worker/dialects/legacy.ts";
import { type GroupPort, Session } from "../../worker/session.ts";

export interface LegacySession {
  session: Session;
  /** Text messages sent, as JSON strings. */
  sent: string[];
  /** Binary messages sent (audio chunks): the very objects handed to the socket. */
  audio: Uint8Array[];
  /** Socket writes that carried audio (a batch is one). */
  audioWrites(): number;
  closed(): { code: number; reason: string } | undefined;
  /** The client sends one text frame. */
  say(text: string): void;
}

export function legacySession(group: GroupPort): LegacySession {
  const sent: string[] = [];
  const audio: Uint8Array[] = [];
  let audioWrites = 0;
  let closed: { code: number; reason: string } | undefined;
  const session = new Session(
    new LegacyConnection({
      send: (data: string | Uint8Array) => {
        if (typeof data === "string") return void sent.push(data);
        audio.push(data);
        audioWrites++;
      },
      sendBatch: (messages: readonly Uint8Array[]) => {
        audio.push(...messages);
        audioWrites++;
      },
      bufferedAmount: () => 0,
      close: (code: number, reason: string) => closed ??= { code, reason },
    }),
    group,
  );
  const input = legacyHandlers(session, group.clock);
  return {
    session,
    sent,
    audio,
    audioWrites: () => audioWrites,
    closed: () => closed,
    say: (text) => input.onText(text),
  };
}

/** A sendspin-js-like hello of one player with `formats`. */
export function playerHello(formats: unknown[], roles = ["player@v1"]): string {
  return JSON.stringify({
    type: "client/hello",
    payload: {
      client_id: crypto.randomUUID(),
      name: "guest",
      version: 1,
      supported_roles: roles,
      "player@v1_support": { supported_formats: formats, buffer_capacity: 1 << 24 },
    },
  });
}
