/**
 * A track's cover, found where taggers and people put it: embedded in MP3 (ID3v2 APIC), FLAC
 * (PICTURE block), Ogg Vorbis and Opus (METADATA_BLOCK_PICTURE comment), M4A (covr), or as cover.jpg /
 * folder.png beside the file, in any case. Every file is made by ffmpeg.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ffmpeg, hasFfmpeg, tempDir } from "../decode/helpers.ts";
import { makePicture } from "../../support/images.ts";
import { findArtwork } from "../../../coordinator/artwork/find_artwork.ts";
import { ignoreUnless } from "../../support/skip.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: the tagged files are made by it");
const SINE = ["-f", "lavfi", "-i", "sine=d=0.5"];

/** A FLAC PICTURE block (front cover), as Vorbis comments carry it in base64. */
function pictureBlock(mime: string, image: Uint8Array): Uint8Array {
  const mimeBytes = new TextEncoder().encode(mime);
  const out = new Uint8Array(32 + mimeBytes.length + image.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 3); // front cover
  view.setUint32(4, mimeBytes.length);
  out.set(mimeBytes, 8);
  let at = 8 + mimeBytes.length;
  view.setUint32(at, 0); // no description
  at += 4 + 16; // width, height, depth, colours: 0 = unknown
  view.setUint32(at, image.length);
  out.set(image, at + 4);
  return out;
}

Deno.test({
  name: "the picture embedded in MP3, FLAC, Ogg Vorbis, Opus and M4A files is the track's cover",
  ignore,
  fn: async () => {
    const dir = await tempDir();
    try {
      const jpeg = `${dir.path}/in.jpg`, png = `${dir.path}/in.png`;
      await makePicture(jpeg, 64, 48);
      await makePicture(png, 40, 40);
      const jpegBytes = await Deno.readFile(jpeg), pngBytes = await Deno.readFile(png);
      const attached = (picture: string, audio: string[], out: string) =>
        ffmpeg([
          ...SINE,
          ...["-i", picture, "-map", "0", "-map", "1", ...audio, "-c:v", "copy"],
          ...["-disposition:v", "attached_pic", `${dir.path}/${out}`],
        ]);
      await attached(jpeg, ["-c:a", "libmp3lame"], "apic.mp3"); // ID3v2.4
      await attached(jpeg, ["-c:a", "libmp3lame", "-id3v2_version", "3"], "apic23.mp3");
      await attached(jpeg, ["-c:a", "aac"], "covr.m4a"); // moov after the audio, as ffmpeg writes it
      await attached(png, ["-c:a", "flac"], "picture.flac");
      // ffmpeg's Ogg muxer takes no picture stream: the comment is written as taggers do.
      const comment = `METADATA_BLOCK_PICTURE=${
        Buffer.from(pictureBlock("image/png", pngBytes)).toString("base64")
      }`;
      for (const [codec, out] of [["libvorbis", "comment.ogg"], ["libopus", "comment.opus"]]) {
        await ffmpeg([...SINE, "-c:a", codec, "-metadata", comment, `${dir.path}/${out}`]);
      }

      for (const file of ["apic.mp3", "apic23.mp3", "covr.m4a"]) {
        assert.deepEqual(await findArtwork(`${dir.path}/${file}`), {
          bytes: jpegBytes,
          mime: "image/jpeg",
        }, file);
      }
      for (const file of ["picture.flac", "comment.ogg", "comment.opus"]) {
        assert.deepEqual(await findArtwork(`${dir.path}/${file}`), {
          bytes: pngBytes,
          mime: "image/png",
        }, file);
      }
    } finally {
      await dir.remove();
    }
  },
});

Deno.test({
  name: "without an embedded picture, cover.jpg or folder.png beside the file is its cover",
  ignore,
  fn: async () => {
    const dir = await tempDir();
    try {
      const album = `${dir.path}/album`, other = `${dir.path}/other`, bare = `${dir.path}/bare`;
      for (const folder of [album, other, bare]) {
        await Deno.mkdir(folder);
        await ffmpeg([...SINE, `${folder}/track.flac`]);
      }
      await makePicture(`${album}/Cover.JPG`, 30, 20); // any case
      await makePicture(`${album}/folder.png`, 10, 10); // cover.* comes first
      await makePicture(`${other}/FOLDER.png`, 12, 12);
      await Deno.writeTextFile(`${bare}/cover.jpg`, "not a picture at all");

      const found = await findArtwork(`${album}/track.flac`);
      assert.equal(found?.mime, "image/jpeg");
      assert.deepEqual(found?.bytes, await Deno.readFile(`${album}/Cover.JPG`));
      const folder = await findArtwork(`${other}/track.flac`);
      assert.deepEqual(folder, {
        bytes: await Deno.readFile(`${other}/FOLDER.png`),
        mime: "image/png",
      });
      assert.equal(await findArtwork(`${bare}/track.flac`), undefined);
    } finally {
      await dir.remove();
    }
  },
});

Deno.test({
  name: "an embedded picture wins over the cover beside the file",
  ignore,
  fn: async () => {
    const dir = await tempDir();
    try {
      await makePicture(`${dir.path}/in.png`, 16, 16);
      await makePicture(`${dir.path}/cover.jpg`, 20, 20);
      await ffmpeg([
        ...SINE,
        ...["-i", `${dir.path}/in.png`, "-map", "0", "-map", "1", "-c:a", "flac", "-c:v", "copy"],
        ...["-disposition:v", "attached_pic", `${dir.path}/track.flac`],
      ]);
      const found = await findArtwork(`${dir.path}/track.flac`);
      assert.deepEqual(found?.bytes, await Deno.readFile(`${dir.path}/in.png`));
    } finally {
      await dir.remove();
    }
  },
});
