// Options and state shapes of the encrypted test client (Sendspin messaging.md, player v1).
import type { TestSuiteName } from "../noise/responder.ts";
import type { HeldPsks } from "./handshake.ts";
import type { ArtworkChannelState } from "./artwork.ts";

export interface AudioFormat {
  codec: "pcm" | "flac" | "opus";
  sample_rate: number;
  channels: number;
  bit_depth: number;
}

/** client/state.player: sent whole every time. */
export interface PlayerState {
  volume: number;
  muted: boolean;
  output_delay_ms: number;
  supported_commands: string[];
  required_lead_time_ms?: number;
  min_buffer_ms?: number;
  format?: AudioFormat;
}

export interface EncryptedClientOptions {
  /** client/init.suite. Default "25519_ChaChaPoly_SHA256". */
  suite?: TestSuiteName;
  /** client/hello.name. Default "encrypted test client". */
  name?: string;
  /** The client's X25519 private key (its identity). Default: random per client. */
  staticKey?: Uint8Array;
  /** player@v1_support.supported_formats. Default [pcm 48 kHz 16-bit stereo]. */
  formats?: AudioFormat[];
  /** player@v1_support.buffer_capacity, bytes. Default 5 MiB. */
  bufferCapacity?: number;
  /** client/hello.supported_roles. Default ["player@v1", "controller@v1", "metadata@v1"]. */
  roles?: string[];
  /** The PSKs the client holds for this server. Default none (only the Sentinel). */
  psks?: HeldPsks;
  /** client/hello.unpaired_access.enabled. Default true. */
  unpairedAccess?: boolean;
  /** client/state.artwork.channels, sent when the roles list artwork@v1. Default one album JPEG 300 x 300. */
  artworkChannels?: ArtworkChannelState[];
  /** client/state.player.output_delay_ms. Default 0. */
  outputDelayMs?: number;
  /** "send": the initial client/state goes out at activation; "hold": the test sends it. */
  state?: "send" | "hold";
  /**
   * How long `connect`/`speakOn` wait from the start to client/hello sent. Default 10 s (the
   * spec's example is 30 s per message; tests should fail sooner).
   */
  handshakeTimeoutMs?: number;
  /** Fields replacing or added to the client/init payload, e.g. { version: 2 }. Default none. */
  initOverride?: Record<string, unknown>;
  /** Pairing (pairing.md): pairing_psk is always offered; this adds a code method and knobs. */
  pairing?: PairingOptions;
}

/** Hostile knobs, each breaking one step of the client's side of pairing. */
export type PairingTamper =
  | "client_kc" // a bit of Tb flipped
  | "low_order_share" // pake_msg_2 is the low-order point u1 (0x01 then zeros)
  | "wrapped_nonce" // a bit of wrapped_nonce_B flipped
  | "commit" // commit_B opens to another nonce_B than the one revealed (correctly wrapped)
  | "wrapped_psk" // a bit of wrapped_psk flipped
  | "future_index" // client/pair-init with pairing_index + 1
  | "second_init"; // client/pair-init sent twice

export interface PairingOptions {
  /** The client's pairing PSK (always a handshake candidate: also put in psks.pairing). Default: psks.pairing, else random. */
  pairingPsk?: Uint8Array;
  /** At most one code method: "static" with its fixed 8 digits, or "dynamic" with formats (default ["digits"]). */
  code?: { kind: "static"; code: string } | {
    kind: "dynamic";
    formats?: ("digits" | "qr_code")[];
  };
  /** Send client/pair-pending (with this message, if not empty) instead of client/pair-init until releasePending(). */
  holdBack?: string;
  tamper?: PairingTamper;
}

export const DEFAULT_FORMAT: AudioFormat = {
  codec: "pcm",
  sample_rate: 48_000,
  bit_depth: 16,
  channels: 2,
};
export const DEFAULT_ROLES = ["player@v1", "controller@v1", "metadata@v1"];
export const DEFAULT_BUFFER_CAPACITY = 5 * 1024 * 1024; // bytes, as the legacy test clients

/** The goodbye reasons of messaging.md. */
export type GoodbyeReason =
  | "another_server"
  | "shutdown"
  | "restart"
  | "user_request"
  | "unauthorized"
  | "pairing_required"
  | "concurrent_attempt"
  | "unpaired";
