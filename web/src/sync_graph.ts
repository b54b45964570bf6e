/// <reference lib="dom" />
/** The last ~8 s of sync error as an SVG line, clamped to ±50 ms. */

const SVG_NS = "http://www.w3.org/2000/svg";
const RANGE_MS = 50;
const WIDTH = 320;
const HEIGHT = 100;
const LABEL_WIDTH = 30; // room on the right for "+50" / "0" / "-50"
const PAD_Y = 6;
const PLOT_RIGHT = WIDTH - LABEL_WIDTH;

export interface SyncGraphOptions {
  /** Samples kept. Default: 33, i.e. 8 s at one sample per 250 ms. */
  historyLength?: number;
}

export class SyncGraph {
  #history: (number | undefined)[] = [];
  #historyLength: number;
  #line: SVGPathElement;
  #dot: SVGCircleElement;

  constructor(svg: SVGSVGElement, options: SyncGraphOptions = {}) {
    this.#historyLength = options.historyLength ?? 33;
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    svg.replaceChildren();
    for (const ms of [RANGE_MS, RANGE_MS / 2, 0, -RANGE_MS / 2, -RANGE_MS]) {
      const y = yOf(ms);
      svg.append(make("line", { class: gridClass(ms), x1: 0, x2: PLOT_RIGHT, y1: y, y2: y }));
      if (ms % RANGE_MS === 0) {
        const label = make("text", { class: "label", x: WIDTH - 2, y: y + 4 });
        label.textContent = ms > 0 ? `+${ms}` : String(ms);
        svg.append(label);
      }
    }
    this.#line = make("path", { class: "line" });
    this.#dot = make("circle", { class: "dot", r: 4, cx: PLOT_RIGHT, cy: yOf(0) });
    this.#dot.style.display = "none";
    svg.append(this.#line, this.#dot);
  }

  /** Add the newest sample; undefined leaves a gap (no audio at that moment). */
  push(ms: number | undefined): void {
    this.#history.push(ms === undefined ? undefined : clamp(ms, -RANGE_MS, RANGE_MS));
    if (this.#history.length > this.#historyLength) this.#history.shift();
    this.#draw();
  }

  clear(): void {
    this.#history = [];
    this.#draw();
  }

  #draw(): void {
    const step = PLOT_RIGHT / (this.#historyLength - 1);
    const offset = this.#historyLength - this.#history.length;
    let path = "";
    let penDown = false;
    this.#history.forEach((ms, i) => {
      if (ms === undefined) {
        penDown = false;
        return;
      }
      path += `${penDown ? "L" : "M"}${((offset + i) * step).toFixed(1)} ${yOf(ms).toFixed(1)}`;
      penDown = true;
    });
    this.#line.setAttribute("d", path);
    const newest = this.#history.at(-1);
    this.#dot.style.display = newest === undefined ? "none" : "";
    if (newest !== undefined) this.#dot.setAttribute("cy", yOf(newest).toFixed(1));
  }
}

function yOf(ms: number): number {
  return PAD_Y + (RANGE_MS - ms) / (2 * RANGE_MS) * (HEIGHT - 2 * PAD_Y);
}

function gridClass(ms: number): string {
  return ms === 0 ? "grid zero" : ms % RANGE_MS === 0 ? "grid edge" : "grid half";
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function make<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}
