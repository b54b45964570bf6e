/// <reference lib="dom" />
/**
 * The party page: wires the start button, status, now playing (cover and party controls),
 * sync panel, listener count and share card.
 */
import { ListenSession, type ListenState } from "./player.ts";
import { ListenerCount } from "./status.ts";
import { setUpShareCard } from "./share.ts";
import { SyncPanel } from "./sync_panel.ts";

const SYNC_REFRESH_MS = 250;
const DOUBLE_TAP_MS = 600; // a second tap this soon after Start is the same tap, not Stop

const BUTTON_LABELS: Record<ListenState, string> = {
  idle: "Start Listening",
  connecting: "Connecting...",
  playing: "Stop Listening",
  reconnecting: "Stop Listening",
};

function byId<T extends Element = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`Cannot start the page: element #${id} is missing`);
  return element as unknown as T;
}

const ui = {
  start: byId<HTMLButtonElement>("start"),
  status: byId("status"),
  nowPlaying: byId("now-playing"),
  title: byId("title"),
  artist: byId("artist"),
  cover: byId<HTMLImageElement>("cover"),
  controls: byId("controls"),
  previous: byId<HTMLButtonElement>("previous"),
  playPause: byId<HTMLButtonElement>("play-pause"),
  next: byId<HTMLButtonElement>("next"),
};
const listeners = new ListenerCount(byId("listeners"));
const sync = new SyncPanel(byId("sync-ms"), byId<SVGSVGElement>("sync-graph"));
const session = new ListenSession({ baseUrl: location.origin, onChange: render });
let syncTimer: ReturnType<typeof setInterval> | undefined;
let startedAtMs = 0;
let wasHearing = false;

function statusText(state: ListenState): string {
  switch (state) {
    case "idle":
      return "Stopped";
    case "connecting":
      return "Connecting...";
    case "reconnecting":
      return "Reconnecting...";
    case "playing":
      return session.isAudioPlaying ? "Playing" : "Waiting for audio...";
  }
}

/** Only touch text that changed, so the live region announces changes and nothing else. */
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function render(): void {
  const state = session.state;
  document.body.dataset.state = state;
  setText(ui.start, BUTTON_LABELS[state]);
  setText(ui.status, statusText(state));
  const track = session.nowPlaying;
  setText(ui.title, track?.title ?? "");
  setText(ui.artist, track?.artist ?? "");
  ui.artist.hidden = !track?.artist;
  renderCover(track?.artworkUrl);
  const shownControls = renderControls();
  ui.nowPlaying.hidden = !track && !shownControls;
  // Count again once audio flows: the server has counted us by then, and the first
  // answer (fetched on Start) may predate our own connection.
  const hearing = state === "playing" && session.isAudioPlaying;
  if (hearing && !wasHearing) listeners.refresh();
  wasHearing = hearing;
}

function renderCover(url: string | undefined): void {
  // Set src only when it changes: the same URL again would not refetch, but an empty
  // one would show a broken image.
  if (url && ui.cover.getAttribute("src") !== url) ui.cover.src = url;
  if (!url) ui.cover.removeAttribute("src");
  ui.cover.hidden = !url || ui.cover.dataset.failed === url;
}

/** Shows only the buttons the server offers now; returns whether any is shown. */
function renderControls(): boolean {
  const offered = session.commands;
  const playing = session.isGroupPlaying;
  const toggle = playing ? "pause" : "play";
  ui.previous.hidden = !offered.has("previous");
  ui.next.hidden = !offered.has("next");
  ui.playPause.hidden = !offered.has(toggle);
  ui.playPause.dataset.playing = String(playing);
  const label = playing ? "Pause" : "Play";
  if (ui.playPause.getAttribute("aria-label") !== label) ui.playPause.ariaLabel = label;
  const any = !ui.previous.hidden || !ui.next.hidden || !ui.playPause.hidden;
  ui.controls.hidden = !any;
  return any;
}

function start(): void {
  startedAtMs = performance.now();
  session.start();
  listeners.start();
  sync.reset();
  syncTimer = setInterval(() => sync.show(session.syncErrorMs), SYNC_REFRESH_MS);
}

function stop(reason?: "user_request" | "shutdown"): void {
  clearInterval(syncTimer);
  syncTimer = undefined;
  listeners.stop();
  session.stop(reason);
  sync.reset();
}

ui.start.addEventListener("click", () => {
  if (session.state === "idle") start();
  else if (performance.now() - startedAtMs > DOUBLE_TAP_MS) stop("user_request");
});
ui.previous.addEventListener("click", () => session.send("previous"));
ui.next.addEventListener("click", () => session.send("next"));
ui.playPause.addEventListener(
  "click",
  () => session.send(session.isGroupPlaying ? "pause" : "play"),
);
// A cover that cannot load is hidden, not shown broken, until the track's cover changes.
ui.cover.addEventListener("error", () => {
  ui.cover.dataset.failed = ui.cover.getAttribute("src") ?? "";
  ui.cover.hidden = true;
});
// Say goodbye when the guest leaves the page, so the server counts them out at once.
addEventListener("pagehide", () => stop("shutdown"));

setUpShareCard({
  card: byId("share"),
  url: byId<HTMLAnchorElement>("share-url"),
  qr: byId("share-qr"),
  copy: byId<HTMLButtonElement>("copy"),
}, location);
render();
