/**
 * The artwork@v1 role of one session, per dialect: a legacy client's channels come with its
 * hello and its stream starts as it joins; an encrypted client's come in client/state, and
 * its stream starts on the first one after the role is activated (the spec: never from stale
 * state, and not again by itself once ended until the role is activated anew).
 */
import type { ArtworkChannel, ArtworkChannelChange } from "../../protocol/artwork_messages.ts";
import type { ClientHello } from "../../protocol/messages.ts";
import type { ArtworkRole } from "./artwork_role.ts";
import { type ArtworkSink, ArtworkStream } from "./artwork_stream.ts";

export const ARTWORK_ROLE = "artwork@v1";

export class SessionArtwork {
  #stream?: ArtworkStream;
  #ended = false;

  constructor(
    role: ArtworkRole | undefined,
    sink: ArtworkSink,
    readonly encrypted: boolean,
  ) {
    if (role) this.#stream = new ArtworkStream(role, sink, encrypted ? "pad" : "inside");
  }

  /**
   * The roles to activate: artwork only where this worker has covers and, for a legacy
   * client, its hello said which channels it wants (the support object is required).
   */
  roles(roles: string[], hello: ClientHello): string[] {
    const usable = this.#stream && (this.encrypted || hello.artwork_support);
    return usable ? roles : roles.filter((role) => role !== ARTWORK_ROLE);
  }

  /** The session's roles were activated (it joined the party). */
  activated(hello: ClientHello, roles: string[]): void {
    if (!this.#stream || !roles.includes(ARTWORK_ROLE)) return;
    this.#ended = false;
    if (!this.encrypted) this.#stream.start(hello.artwork_support ?? []);
  }

  /** An encrypted client/state; `active`: the role is active and the client available. */
  onState(channels: ArtworkChannel[] | undefined, active: boolean): void {
    if (!this.#stream || !channels) return;
    if (active && !this.#stream.active && !this.#ended) this.#stream.start(channels);
    else this.#stream.configure(channels);
  }

  /** A legacy stream/request-format for one artwork channel. */
  onChange(change: ArtworkChannelChange): void {
    if (this.#stream?.active) this.#stream.change(change);
  }

  /** The client may not play now, or is taken by another system: stream/end for artwork. */
  end(): void {
    this.#stream?.end();
    this.#ended = true;
  }

  /** The connection is gone. */
  stop(): void {
    this.#stream?.stop();
  }
}
