/**
 * What one client may send. sendspin-js sends about ten messages in ten seconds (a time
 * burst of 8, two state reports) and a controller dragging a volume slider a few dozen a
 * second for a moment; anything far beyond that is a broken or hostile client, closed before
 * it costs the others anything.
 */

/** Larger text frames close the connection (1009): no valid message comes near this. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Invalid messages (not JSON, wrong types, unknown type) tolerated before closing (1008). */
export const MAX_INVALID_MESSAGES = 20;
/** Token bucket: a burst of this many messages... */
export const BURST_MESSAGES = 100;
/** ...refilled at this rate. */
export const MESSAGES_PER_SECOND = 20;

/** The UTF-8 size of a text frame, computed only when it could exceed the limit. */
export function tooBig(text: string): boolean {
  if (text.length > MAX_MESSAGE_BYTES) return true; // every UTF-16 unit is at least 1 byte
  if (text.length * 3 <= MAX_MESSAGE_BYTES) return false; // and at most 3
  return new TextEncoder().encode(text).byteLength > MAX_MESSAGE_BYTES;
}

/** Message rate per client: `take` is false once the client sends faster than allowed. */
export class MessageBudget {
  #tokens = BURST_MESSAGES;
  #lastUs: number | undefined;

  take(nowUs: number): boolean {
    if (this.#lastUs !== undefined) {
      const refill = ((nowUs - this.#lastUs) / 1e6) * MESSAGES_PER_SECOND;
      this.#tokens = Math.min(BURST_MESSAGES, this.#tokens + refill);
    }
    this.#lastUs = nowUs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
