import assert from "node:assert/strict";
import { Queue } from "../../../coordinator/playlist/queue.ts";
import { parseM3u, parsePls, resolveTracks } from "../../../coordinator/playlist/tracks.ts";
import { seededRandom } from "../decode/helpers.ts";

Deno.test("an M3U gives locations with their #EXTINF titles", () => {
  const text =
    "\uFEFF#EXTM3U\r\n#EXTINF:123,Band - Song\r\nsong.mp3\r\n\r\n# note\r\nhttp://x/y.mp3\r\n";
  assert.deepEqual(parseM3u(text), [
    { location: "song.mp3", title: "Band - Song" },
    { location: "http://x/y.mp3", title: undefined },
  ]);
});

Deno.test("a PLS gives its FileN entries in N order with their TitleN", () => {
  const text = "[playlist]\nFile2=b.flac\nFile1=a.flac\nTitle1=First\nNumberOfEntries=2\n";
  assert.deepEqual(parsePls(text), [
    { location: "a.flac", title: "First" },
    { location: "b.flac", title: undefined },
  ]);
});

Deno.test("a folder plays its audio files in name order, subfolders included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/b-sub`);
    for (const name of ["10 ten.mp3", "2 two.FLAC", "cover.jpg", "b-sub/x.ogg", "c.wav"]) {
      await Deno.writeFile(`${dir}/${name}`, new Uint8Array(1));
    }
    const tracks = await resolveTracks({ kind: "folder", path: dir }, () => {});
    assert.deepEqual(
      tracks.map((t) => t.label.slice(dir.length + 1)),
      ["2 two.FLAC", "10 ten.mp3", "b-sub/x.ogg", "c.wav"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the queue follows repeat modes, wraps for next and previous, and shuffles the rest", () => {
  const queue = new Queue(4, { repeat: "all", random: seededRandom(7) });
  assert.deepEqual([queue.after(3), queue.next(3), queue.previous(0)], [0, 0, 3]);
  queue.repeat = "off";
  assert.equal(queue.after(3), undefined);
  queue.repeat = "one";
  assert.equal(queue.after(2), 2);
  queue.shuffle(2);
  assert.equal(queue.order[0], 2, "the current track stays where the party is");
  assert.deepEqual([...queue.order].sort(), [0, 1, 2, 3]);
  queue.unshuffle();
  assert.deepEqual([queue.order, queue.shuffled], [[0, 1, 2, 3], false]);
});
