type Samples = Uint8Array | Int16Array | Float32Array;

/** `a` then `b` in a new array of the same kind (pieces of a stream meeting at a border). */
export function concat<T extends Samples>(a: T, b: T): T {
  const out = new (a.constructor as new (length: number) => T)(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
