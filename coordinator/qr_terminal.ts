/**
 * A QR code as terminal text: two module rows per text line with the half blocks ▀ ▄ █, so
 * the code is about square in a terminal font and half as tall as one-line-per-row art.
 */
import qrcode from "qrcode-generator";

export interface RenderQrOptions {
  /**
   * Light modules drawn around the code; default 2. The standard asks for 4, but phones
   * read a terminal code with 2, and a terminal is small.
   */
  quietZone?: number;
  /**
   * Draw the light modules as glyphs, for light text on a dark terminal (the usual case);
   * default true. With false the dark modules are drawn, for dark text on a light terminal.
   * Either way the printed code is dark on light, as every phone's scanner expects.
   */
  lightOnDark?: boolean;
}

/** Error correction L: the smallest code; a screen gives a clean image, no damage to repair. */
const ERROR_CORRECTION = "L";

/** The module matrix of `text` (UTF-8, byte mode, version chosen to fit); true is dark. */
export function qrModules(text: string): boolean[][] {
  const qr = qrcode(0, ERROR_CORRECTION);
  // qrcode-generator keeps only the low byte of each UTF-16 unit: hand it UTF-8 bytes instead.
  qr.addData(String.fromCharCode(...new TextEncoder().encode(text)), "Byte");
  try {
    qr.make();
  } catch (error) {
    throw new RangeError(`Cannot make a QR code of ${text.length} characters: ${error}`);
  }
  const size = qr.getModuleCount();
  return Array.from(
    { length: size },
    (_, row) => Array.from({ length: size }, (_, col) => qr.isDark(row, col)),
  );
}

const HALF_BLOCKS = [" ", "▄", "▀", "█"]; // index: (top inked ? 2 : 0) + (bottom inked ? 1 : 0)

/** `text` as a QR code in terminal text: lines joined by "\n", no trailing newline. */
export function renderQr(text: string, options: RenderQrOptions = {}): string {
  const quietZone = options.quietZone ?? 2;
  const lightOnDark = options.lightOnDark ?? true;
  if (!Number.isInteger(quietZone) || quietZone < 0) {
    throw new RangeError(`Cannot draw a quiet zone of ${quietZone} modules: need a whole number`);
  }
  const modules = qrModules(text);
  const size = modules.length + 2 * quietZone;
  // Rows past the bottom are the terminal's own background: never inked.
  const inked = (row: number, col: number): boolean => {
    if (row >= size) return false;
    const dark = modules[row - quietZone]?.[col - quietZone] ?? false;
    return dark !== lightOnDark;
  };
  const lines: string[] = [];
  for (let row = 0; row < size; row += 2) {
    let line = "";
    for (let col = 0; col < size; col++) {
      line += HALF_BLOCKS[(inked(row, col) ? 2 : 0) + (inked(row + 1, col) ? 1 : 0)];
    }
    lines.push(line);
  }
  return lines.join("\n");
}
