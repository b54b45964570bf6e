/** The server's identity in the encrypted dialect: one X25519 keypair for every worker. */
import { encodeBase64Url } from "../../../protocol/noise/base64url.ts";
import { keyPairFromPrivate, type X25519KeyPair } from "../../../protocol/noise/keys.ts";
import type { PskCategory } from "../../../protocol/noise/psk.ts";

export interface ServerIdentity {
  keyPair: X25519KeyPair;
  /** The public key, base64url: `server_id` in `server/init`. */
  serverId: string;
}

export function identityFromPrivateKey(privateKey: Uint8Array): ServerIdentity {
  const keyPair = keyPairFromPrivate(privateKey);
  return { keyPair, serverId: encodeBase64Url(keyPair.publicKey) };
}

/** The PSK message 1 references for a client, and what kind it is. */
export interface PskChoice {
  psk: Uint8Array;
  category: PskCategory;
}
