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
/** Message rate per client (a token bucket): a burst of this many messages... */
export const BURST_MESSAGES = 100;
/** ...refilled at this rate. */
export const MESSAGES_PER_SECOND = 20;
