/**
 * What the party plays now and how it may be controlled: the coordinator owns it (the
 * playlist lives there), every worker shows it to its metadata and controller clients.
 */

/** Playback commands a controller may send (volume and mute are the group's, not these). */
export const PARTY_COMMANDS = [
  "play",
  "pause",
  "stop",
  "next",
  "previous",
  "repeat_off",
  "repeat_one",
  "repeat_all",
  "shuffle",
  "unshuffle",
] as const;
export type PartyCommand = typeof PARTY_COMMANDS[number];

export type RepeatMode = "off" | "one" | "all";
export type PlaybackState = "playing" | "paused" | "stopped";

/** One track's description, as far as its tags (or a stream title) tell. */
export interface TrackInfo {
  title?: string;
  artist?: string;
  album_artist?: string;
  album?: string;
  year?: number;
  track?: number;
  /** Whole track length; absent for a live stream or an unknown length. */
  durationMs?: number;
}

/**
 * The party's state from the moment `atUs` (coordinator server time) on: a track change is
 * announced ahead with the time its first sample is heard, and workers tell clients then.
 */
export interface NowPlaying {
  atUs: number;
  track: TrackInfo;
  /** Where in the track the sample heard at `atUs` is. */
  positionMs: number;
  playback: PlaybackState;
  repeat: RepeatMode;
  shuffle: boolean;
  /** What a controller may send now: only what means something for this source. */
  supported: PartyCommand[];
  /** Path of this track's cover on every worker's HTTP front, when it has one. */
  artworkPath?: string;
}
