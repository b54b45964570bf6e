/** A source that cannot be played right now; `message` is one line for a person. */
export class SourceError extends Error {}
