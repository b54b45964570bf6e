/**
 * The player page in a real headless Chromium against a real server: start, play in sync,
 * count listeners, stop, survive a server restart, show the track with its cover, drive the
 * party with its buttons, and never ask another host for anything.
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { buildWeb } from "../support/web_build.ts";
import { playlistFixture } from "../support/playlist_fixture.ts";
import { ffmpeg, hasFfmpeg } from "../coordinator/decode/helpers.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";
import { untilValue } from "../support/until.ts";

const CHROMIUM = "/usr/bin/chromium";
const noChromium = ignoreUnless(
  await Deno.stat(CHROMIUM).then(() => true, () => false),
  `the browser tests: ${CHROMIUM} is missing (apt-get install chromium)`,
);
const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const noFfmpeg = ignoreUnless(hasFfmpeg, "the playlist page test: ffmpeg is not on PATH");
const opts = { ignore: noChromium, sanitizeOps: false, sanitizeResources: false };

async function launch(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

interface Watched {
  page: Page;
  foreignRequests: string[];
  consoleErrors: string[];
}

async function openPlayer(browser: Browser, server: TestServer): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 412, height: 915 } });
  const origin = new URL(server.url).origin;
  const watched: Watched = { page, foreignRequests: [], consoleErrors: [] };
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && !url.protocol.startsWith("data") && url.protocol !== "blob:") {
      watched.foreignRequests.push(request.url());
    }
  });
  page.on("console", (message) => {
    if (message.type() === "error") watched.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => watched.consoleErrors.push(String(error)));
  await page.goto(server.url);
  return watched;
}

async function state(page: Page): Promise<string | undefined> {
  return (await page.getAttribute("body", "data-state")) ?? undefined;
}

/** Polls what the page shows (every 100 ms, 15 s by default); a timeout shows the last read. */
function untilPage<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  ms = 15_000,
): Promise<T> {
  return untilValue(what, read, accept, { ms, everyMs: 100 });
}

const text = (page: Page, selector: string) => async () => await page.textContent(selector);
const finite = (text: string | null) => Number.isFinite(parseFloat(text ?? ""));

Deno.test({
  name: "a guest presses Start, hears the party in sync, is counted, and can stop",
  ...opts,
  fn: async () => {
    await buildWeb();
    const server = await startServer();
    const browser = await launch();
    try {
      const first = await openPlayer(browser, server);
      const { page } = first;
      assert.equal((await page.textContent("#start"))?.trim(), "Start Listening");
      assert.equal(await state(page), "idle");
      await page.click("#start");
      await untilPage("the state playing", () => state(page), (s) => s === "playing");
      assert.equal((await page.textContent("#start"))?.trim(), "Stop Listening");
      await untilPage("a finite sync readout", text(page, "#sync-ms"), finite);
      assert.match((await page.getAttribute("#sync-ms", "data-tone")) ?? "", /^(good|warn|bad)$/);
      assert.ok(await page.isHidden("#share"), "no share card on a loopback address");
      await untilPage(
        "the now-playing title",
        text(page, "#title"),
        (title) => title === "Sendspin Party Demo",
      );
      // The demo is one endless loop: play/pause applies, previous and next do not, and it
      // has no cover.
      await untilPage("the pause button", () => page.isVisible("#play-pause"), (v) => v);
      for (const button of ["#previous", "#next", "#cover"]) {
        assert.ok(await page.isHidden(button), `${button} is hidden`);
      }

      const second = await openPlayer(browser, server);
      await second.page.click("#start");
      await untilPage("the second page playing", () => state(second.page), (s) => s === "playing");
      await untilPage(
        "2 tuned in",
        text(page, "#listeners"),
        (listeners) => listeners?.trim() === "2 tuned in",
        25_000,
      );
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL("player.png", ARTIFACTS).pathname, fullPage: true });

      await page.click("#start");
      await untilPage("back to the start (idle)", () => state(page), (s) => s === "idle");
      assert.equal((await page.textContent("#start"))?.trim(), "Start Listening");
      for (const watched of [first, second]) {
        assert.deepEqual(watched.foreignRequests, [], "no request leaves the server's origin");
        assert.deepEqual(watched.consoleErrors, [], "no console errors");
      }
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "when the server restarts under the page, it plays again by itself",
  ...opts,
  fn: async () => {
    await buildWeb();
    let server = await startServer();
    const port = server.port;
    const browser = await launch();
    try {
      const { page } = await openPlayer(browser, server);
      await page.click("#start");
      await untilPage("the state playing", () => state(page), (s) => s === "playing");
      await server.stop();
      await untilPage("the state reconnecting", () => state(page), (s) => s === "reconnecting");
      server = await startServer({ port });
      await untilPage("playing again", () => state(page), (s) => s === "playing", 30_000);
      await untilPage("audio flowing (a finite sync readout)", text(page, "#sync-ms"), finite);
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});

/** Which track the page shows, and the cover's address once it is on screen and loaded. */
async function shown(page: Page) {
  // A string, as it runs in the page: this file is checked without the DOM's types.
  const loaded = await page.evaluate<boolean>(
    `(() => { const c = document.getElementById("cover"); return c.complete && c.naturalWidth > 0; })()`,
  );
  const visible = await page.isVisible("#cover");
  return {
    title: await page.textContent("#title"),
    artist: await page.textContent("#artist"),
    cover: visible && loaded ? (await page.getAttribute("#cover", "src")) ?? undefined : undefined,
  };
}

Deno.test({
  name: "the page shows title, artist and cover of a playlist, and its buttons change the track",
  ...opts,
  ignore: noChromium || noFfmpeg,
  fn: async () => {
    await buildWeb();
    const fixture = await playlistFixture();
    // A cover beside the tracks: every track of the folder has it.
    await ffmpeg([
      ...["-f", "lavfi", "-i", "testsrc2=size=320x320", "-frames:v", "1"],
      `${fixture.dir}/cover.jpg`,
    ]);
    const server = await startServer({ source: { kind: "folder", path: fixture.dir } });
    const browser = await launch();
    try {
      const watched = await openPlayer(browser, server);
      const { page } = watched;
      await page.click("#start");
      const first = await untilPage(
        "the first track with its cover",
        () => shown(page),
        (s) => s.title === "Song 1" && s.artist === "Artist 1" && s.cover !== undefined,
        25_000,
      );
      assert.equal(new URL(first.cover!, server.url).origin, new URL(server.url).origin);
      assert.equal(await page.getAttribute("#next", "aria-label"), "Next track");
      assert.equal(await page.getAttribute("#previous", "aria-label"), "Previous track");
      await untilPage(
        "play/pause offering pause while the party plays",
        () => page.getAttribute("#play-pause", "aria-label"),
        (label) => label === "Pause",
      );
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL("player_playlist.png", ARTIFACTS).pathname });

      // From the keyboard: the buttons are reachable and act on Enter.
      await page.focus("#next");
      await page.keyboard.press("Enter");
      await untilPage(
        "the second track after next",
        () => shown(page),
        (s) => s.title === "Song 2" && s.artist === "Artist 2" && s.cover !== undefined,
      );
      await page.click("#previous");
      await untilPage("the first track after previous", () => shown(page), (s) => {
        return s.title === "Song 1" && s.artist === "Artist 1";
      });
      await page.click("#play-pause");
      await untilPage(
        "play/pause offering play once paused",
        () => page.getAttribute("#play-pause", "aria-label"),
        (label) => label === "Play",
      );
      assert.deepEqual(watched.foreignRequests, [], "no request leaves the server's origin");
      assert.deepEqual(watched.consoleErrors, [], "no console errors");
    } finally {
      await browser.close();
      await server.stop();
      await fixture.remove();
    }
  },
});
