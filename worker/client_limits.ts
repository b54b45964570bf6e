/**
 * What one client may send. sendspin-js sends about ten messages in ten seconds (a time
 * burst of 8, two state reports) and a controller dragging a volume slider a few dozen a
 * second for a moment; anything far beyond that is a broken or hostile client, closed before
 * it costs the others anything.
 */

/** A larger message closes the connection (1009) before it is read: no valid one comes near. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Invalid messages (not JSON, wrong types, unknown type) tolerated before closing (1008). */
export const MAX_INVALID_MESSAGES = 20;
/** Token bucket: a burst of this many messages... */
export const BURST_MESSAGES = 100;
/** ...refilled at this rate. */
export const MESSAGES_PER_SECOND = 20;

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
