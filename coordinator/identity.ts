/**
 * The server's long-lived identity for the encrypted dialect: an X25519 keypair made on
 * first start and kept in the settings folder, owner-only. Its public key is the
 * `server_id` that paired speakers remember, so a damaged file is an error to fix, never a
 * reason to make a new identity behind the operator's back.
 */
import { decodeBase64Url, encodeBase64Url } from "../protocol/noise/base64url.ts";
import { generateKeyPair, keyPairFromPrivate } from "../protocol/noise/keys.ts";
import { readPrivateFile, writePrivateFile } from "./private_files.ts";

export const IDENTITY_FILE = "server-identity.json";

export interface Identity {
  /** base64url of the private key: what workers are handed over their pipe. */
  privateKey: string;
  /** base64url of the public key: the `server_id`. */
  serverId: string;
  /** Where it is kept; undefined when there is no settings folder (a new one each start). */
  path?: string;
}

/** Thrown when the identity file exists but cannot be used: one line for the operator. */
export class IdentityError extends Error {}

/** The first 8 characters of the server id: enough to tell two servers apart on a banner. */
export function shortId(serverId: string): string {
  return serverId.slice(0, 8);
}

/** Loads the identity from `folder`, making and saving one on first start. */
export function loadIdentity(folder: string | undefined): Identity {
  if (!folder) {
    const { privateKey, publicKey } = generateKeyPair();
    return { privateKey: encodeBase64Url(privateKey), serverId: encodeBase64Url(publicKey) };
  }
  const path = `${folder}/${IDENTITY_FILE}`;
  let text: string | undefined;
  try {
    text = readPrivateFile(path);
  } catch (error) {
    throw new IdentityError(`Cannot read the server identity ${path}: ${(error as Error).message}`);
  }
  if (text === undefined) {
    const { privateKey, publicKey } = generateKeyPair();
    const identity = {
      privateKey: encodeBase64Url(privateKey),
      serverId: encodeBase64Url(publicKey),
      path,
    };
    try {
      writePrivateFile(
        path,
        JSON.stringify(
          { private_key: identity.privateKey, server_id: identity.serverId },
          null,
          2,
        ) + "\n",
      );
    } catch (error) {
      throw new IdentityError(
        `Cannot save the new server identity to ${path}: ${(error as Error).message}`,
      );
    }
    return identity;
  }
  return { ...parseIdentity(text, path), path };
}

function parseIdentity(text: string, path: string): Omit<Identity, "path"> {
  const damaged = (why: string) =>
    new IdentityError(
      `The server identity ${path} is damaged (${why}): restore it from a backup, or delete it ` +
        `to start with a new identity (paired speakers must then be paired again)`,
    );
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw damaged("not JSON");
  }
  const { private_key: privateKey, server_id: serverId } = (data ?? {}) as Record<string, unknown>;
  if (typeof privateKey !== "string") throw damaged("no private_key");
  let publicKey: Uint8Array;
  try {
    publicKey = keyPairFromPrivate(decodeBase64Url(privateKey, { byteLength: 32 })).publicKey;
  } catch {
    throw damaged("private_key is not a 32-byte key in base64url");
  }
  if (serverId !== encodeBase64Url(publicKey)) throw damaged("server_id does not match the key");
  return { privateKey, serverId };
}
