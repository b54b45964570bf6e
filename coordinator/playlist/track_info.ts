/**
 * A track's full description (title, artist, album artist, album, year, track number,
 * duration) from ffprobe, which comes with ffmpeg. Without ffmpeg the built-in decoders'
 * tags (title, artist, album) are all there is.
 */
import type { TrackInfo } from "../../protocol/now_playing.ts";
import { splitStreamTitle } from "../decode/icy.ts";

/** ffprobe reads the tags of a local file quickly; it is given this long at most. */
const PROBE_TIMEOUT_MS = 10_000;

export async function probeTrackInfo(path: string): Promise<TrackInfo> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("ffprobe", {
      args: [
        ...["-v", "error", "-of", "json"],
        ...["-show_entries", "format=duration:format_tags:stream_tags", path],
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    }).output();
  } catch {
    return {}; // no ffprobe, or it hung: the decoder's own tags still come
  }
  if (!output.success) return {};
  try {
    const probe = JSON.parse(new TextDecoder().decode(output.stdout));
    const tags: Record<string, string> = {};
    // Ogg keeps its tags on the stream, most containers on the format: both, format first.
    for (
      const source of [
        ...(probe.streams ?? []).map((s: { tags?: object }) => s.tags),
        probe.format?.tags,
      ]
    ) {
      for (const [key, value] of Object.entries(source ?? {})) {
        if (typeof value === "string" && value.trim()) tags[key.toLowerCase()] = value.trim();
      }
    }
    return infoOfTags(tags, Number(probe.format?.duration));
  } catch {
    return {};
  }
}

export function infoOfTags(tags: Record<string, string>, durationS: number): TrackInfo {
  const info: TrackInfo = {};
  if (tags.title) info.title = tags.title;
  if (tags.artist) info.artist = tags.artist;
  const albumArtist = tags.album_artist ?? tags.albumartist ?? tags["album artist"];
  if (albumArtist) info.album_artist = albumArtist;
  if (tags.album) info.album = tags.album;
  const year = Number(/\d{4}/.exec(tags.date ?? tags.year ?? "")?.[0]);
  if (year) info.year = year;
  const track = parseInt(tags.track ?? tags.tracknumber ?? "", 10);
  if (track > 0) info.track = track;
  if (Number.isFinite(durationS) && durationS > 0) info.durationMs = Math.round(durationS * 1000);
  return info;
}

/** A playlist's title for a file without tags: "Artist - Title" is split as ICY titles are. */
export function listedInfo(title: string | undefined): TrackInfo {
  return title ? splitStreamTitle(title) : {};
}
