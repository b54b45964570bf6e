/**
 * The one PCM format that flows from the coordinator's timeline to every worker.
 * Sources are converted to it once; encoders convert from it per output format.
 */
export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
export const BIT_DEPTH = 16;
export const BYTES_PER_FRAME = CHANNELS * (BIT_DEPTH / 8);

/** 60 ms per chunk: the longest single Opus frame, so one chunk becomes one packet or frame. */
export const CHUNK_FRAMES = 2_880;
export const CHUNK_BYTES = CHUNK_FRAMES * BYTES_PER_FRAME;
