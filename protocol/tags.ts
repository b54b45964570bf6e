/** What is playing, as far as the source's tags or stream titles tell. */
export interface TrackTags {
  title?: string;
  artist?: string;
  album?: string;
}
