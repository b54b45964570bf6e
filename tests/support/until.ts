/**
 * The one way tests wait for something to happen: poll a condition until it holds, with a
 * deadline, and on timeout fail naming what was awaited and what was seen instead.
 */

export interface UntilOptions {
  /** The deadline, in ms from the call. Default 10 s. */
  ms?: number;
  /**
   * What the test saw, for the error on timeout: called once then, after the last check
   * (a string is shown as it is, anything else inspected).
   */
  seen?: () => unknown;
  /** Pause between checks. Default 20 ms. */
  everyMs?: number;
}

const DEFAULT_MS = 10_000;

/**
 * Polls `condition` until it holds; after the deadline (`ms`, or `options.ms`) throws, naming
 * `what` and, with `options.seen`, the last state seen. A condition that is still running at
 * the deadline (a request that hangs) counts as not holding.
 */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: number | UntilOptions = DEFAULT_MS,
): Promise<void> {
  const { ms = DEFAULT_MS, seen, everyMs = 20 } = typeof options === "number"
    ? { ms: options }
    : options;
  const deadline = performance.now() + ms;
  while (!(await beforeDeadline(condition(), deadline))) {
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${await describe(seen)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Polls `read` until `accept` takes its value, and returns that value; on timeout the error
 * shows the last value read (or `options.seen`, if given).
 */
export async function untilValue<T>(
  what: string,
  read: () => T | Promise<T>,
  accept: (value: T) => boolean,
  options: number | UntilOptions = DEFAULT_MS,
): Promise<T> {
  const base = typeof options === "number" ? { ms: options } : options;
  let last: { value: T } | undefined;
  await until(what, async () => {
    last = { value: await read() };
    return accept(last.value);
  }, { ...base, seen: base.seen ?? (() => last ? last.value : "nothing read yet") });
  return last!.value;
}

/** `value`, or false once the deadline passes first (the pending check is abandoned). */
async function beforeDeadline(
  value: boolean | Promise<boolean>,
  deadline: number,
): Promise<boolean> {
  if (typeof value === "boolean") return value;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([value, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function describe(seen: (() => unknown) | undefined): Promise<string> {
  if (!seen) return "";
  try {
    const value = await seen();
    const text = typeof value === "string"
      ? value
      : Deno.inspect(value, { depth: 4, iterableLimit: 50, breakLength: 100 });
    return `; saw: ${text}`;
  } catch (error) {
    return `; describing what was seen failed: ${error}`;
  }
}
