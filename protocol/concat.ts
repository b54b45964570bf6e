type Samples = Uint8Array | Int16Array | Float32Array;

/** `a` then `b` in a new array of the same kind (pieces of a stream meeting at a border). */
export function concat<T extends Samples>(a: T, b: T): T {
  const out = new (a.constructor as new (length: number) => T)(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Bytes joined into a new plain Uint8Array (whatever views, Buffers included, came in). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
