/**
 * The three pairing methods of Sendspin pairing.md and what a client offers of them in
 * `client/hello` (`supported_pair_methods`). Shared by the worker, which reads the offer,
 * and the coordinator, which tells the operator what a client can do.
 */
import { isObject } from "../messages.ts";

export type PairMethod = "pairing_psk" | "static_pairing_code" | "dynamic_pairing_code";
export const PAIR_METHODS: readonly PairMethod[] = [
  "pairing_psk",
  "static_pairing_code",
  "dynamic_pairing_code",
];

/** How a dynamic pairing code reaches the operator: typed digits, or a scanned QR token. */
export type CodeFormat = "digits" | "qr_code";

/** What a client offers: every client the pairing PSK; at most one code method. */
export interface PairOffer {
  methods: PairMethod[];
  /** The dynamic code's formats, when `dynamic_pairing_code` is offered (never empty then). */
  formats: CodeFormat[];
}

const FORMATS: readonly string[] = ["digits", "qr_code"];
const OUT_CHANNELS: readonly string[] = ["display", "speaker"];

/**
 * Reads `supported_pair_methods`. Unknown keys and values are ignored (a newer client); a
 * dynamic method left with no known format or channel counts as unknown; a client listing
 * both code methods is taken to offer only the dynamic one, the safer (pairing.md).
 */
export function parsePairOffer(value: unknown): PairOffer {
  const offer: PairOffer = { methods: [], formats: [] };
  if (!isObject(value)) return offer;
  if (isObject(value.pairing_psk)) offer.methods.push("pairing_psk");
  const dynamic = value.dynamic_pairing_code;
  if (isObject(dynamic)) {
    const known = (list: unknown, names: readonly string[]) =>
      Array.isArray(list) ? list.filter((item) => names.includes(item)) : [];
    const formats = [...new Set(known(dynamic.formats, FORMATS))] as CodeFormat[];
    if (formats.length > 0 && known(dynamic.out_channels, OUT_CHANNELS).length > 0) {
      offer.methods.push("dynamic_pairing_code");
      offer.formats = formats;
    }
  }
  if (isObject(value.static_pairing_code) && !offer.methods.includes("dynamic_pairing_code")) {
    offer.methods.push("static_pairing_code");
  }
  return offer;
}

/** The code method a client offers, if any: what the operator's "pair" uses by default. */
export function codeMethodOf(offer: PairOffer): PairMethod | undefined {
  return offer.methods.find((method) => method !== "pairing_psk");
}

/** How the console names a method. */
export function describeMethod(method: PairMethod): string {
  switch (method) {
    case "pairing_psk":
      return "its pairing token";
    case "static_pairing_code":
      return "the fixed 8-digit code printed on it";
    case "dynamic_pairing_code":
      return "a code it shows or speaks";
  }
}
