/// <reference lib="dom" />
/** The share card: the page's link, its QR code and a copy button. */
import qrcode from "qrcode-generator";

const SVG_NS = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4; // modules of margin that QR readers need around the code
const COPIED_FEEDBACK_MS = 2_000;

export interface ShareCardElements {
  card: HTMLElement;
  url: HTMLAnchorElement;
  qr: HTMLElement;
  copy: HTMLButtonElement;
}

/** A link to this machine's loopback address is no use to anyone else in the room. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" ||
    /^127(\.\d{1,3}){3}$/.test(host);
}

export function setUpShareCard(elements: ShareCardElements, page: Location): void {
  if (isLoopbackHost(page.hostname)) {
    elements.card.hidden = true;
    return;
  }
  const link = `${page.origin}${page.pathname}`;
  elements.url.href = link;
  elements.url.textContent = link;
  elements.qr.replaceChildren(qrSvg(link));
  const label = elements.copy.textContent ?? "Copy link";
  let restore: ReturnType<typeof setTimeout> | undefined;
  elements.copy.addEventListener("click", async () => {
    const copied = await copyText(link);
    if (!copied) selectText(elements.url);
    elements.copy.textContent = copied ? "Copied" : "Press and hold the link to copy";
    clearTimeout(restore);
    restore = setTimeout(() => elements.copy.textContent = label, COPIED_FEEDBACK_MS);
  });
  elements.card.hidden = false;
}

/** The QR code as an SVG drawn from the modules: one path, crisp at any size. */
export function qrSvg(text: string): SVGSVGElement {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const size = count + 2 * QUIET_ZONE;
  let path = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.isDark(row, col)) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("aria-hidden", "true");
  const background = document.createElementNS(SVG_NS, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG_NS, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  return svg;
}

async function copyText(text: string): Promise<boolean> {
  // The Clipboard API exists only in secure contexts; a party on plain http has none.
  if (globalThis.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      console.warn("Cannot copy with the Clipboard API, trying the fallback:", error);
    }
  }
  return copyWithTextarea(text);
}

function copyWithTextarea(text: string): boolean {
  const focused = document.activeElement;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  try {
    return document.execCommand("copy");
  } catch (error) {
    console.warn("Cannot copy with execCommand:", error);
    return false;
  } finally {
    area.remove();
    if (focused instanceof HTMLElement) focused.focus();
  }
}

function selectText(element: HTMLElement): void {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}
