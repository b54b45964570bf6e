/// <reference lib="dom" />
/** The sync readout ("3.2 ms", coloured by tone) and its graph. */
import { SyncGraph } from "./sync_graph.ts";

export type SyncTone = "good" | "warn" | "bad";

const GOOD_BELOW_MS = 10; // the reference's thresholds: < 10 good, <= 25 warn, above bad
const WARN_UP_TO_MS = 25;
const NO_VALUE = "--.- ms";

export function syncTone(ms: number): SyncTone {
  const size = Math.abs(ms);
  return size < GOOD_BELOW_MS ? "good" : size <= WARN_UP_TO_MS ? "warn" : "bad";
}

export function formatSyncMs(ms: number): string {
  const shown = Math.abs(ms) < 0.05 ? 0 : ms; // no "-0.0 ms"
  return `${shown.toFixed(1)} ms`;
}

export class SyncPanel {
  #readout: HTMLElement;
  #graphElement: SVGSVGElement;
  #graph: SyncGraph;

  constructor(readout: HTMLElement, graph: SVGSVGElement) {
    this.#readout = readout;
    this.#graphElement = graph;
    this.#graph = new SyncGraph(graph);
    this.reset();
  }

  /** Show the newest sync error; undefined when no audio plays. */
  show(ms: number | undefined): void {
    const tone = ms === undefined ? "idle" : syncTone(ms);
    this.#readout.textContent = ms === undefined ? NO_VALUE : formatSyncMs(ms);
    this.#readout.dataset.tone = tone;
    this.#graphElement.dataset.tone = tone;
    this.#graph.push(ms);
  }

  reset(): void {
    this.#readout.textContent = NO_VALUE;
    this.#readout.dataset.tone = "idle";
    this.#graphElement.dataset.tone = "idle";
    this.#graph.clear();
  }
}
