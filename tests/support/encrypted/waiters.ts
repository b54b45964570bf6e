// Pending `next()` calls of a test client: each resolves with the first matching message
// that arrives after it was made, or fails naming why (timeout, close).

interface Waiter<T> {
  match: (message: T) => boolean;
  resolve: (message: T) => void;
  fail: (why: string) => void;
}

export class Waiters<T> {
  #pending = new Set<Waiter<T>>();

  add(match: (message: T) => boolean, timeoutMs: number, errorOf: (why: string) => Error) {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        match,
        resolve: (message) => (clearTimeout(timer), resolve(message)),
        fail: (why) => (clearTimeout(timer), reject(errorOf(why))),
      };
      const timer = setTimeout(() => {
        this.#pending.delete(waiter);
        waiter.fail(`timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      this.#pending.add(waiter);
    });
  }

  /** Hands `message` to the oldest waiter it matches. */
  offer(message: T): void {
    for (const waiter of this.#pending) {
      if (!waiter.match(message)) continue;
      this.#pending.delete(waiter);
      return waiter.resolve(message);
    }
  }

  rejectAll(why: string): void {
    for (const waiter of this.#pending) waiter.fail(why);
    this.#pending.clear();
  }
}

/** `promise`, or a rejection naming `what()` after `ms`; the timer is cleared either way. */
export async function deadline<T>(
  promise: Promise<T>,
  ms: number,
  what: () => string = () => "waiting",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing after ${ms} ms ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `promise` at most `ms`: true if it settled in time (a close that may not come). */
export async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
