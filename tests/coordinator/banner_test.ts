import assert from "node:assert/strict";
import qrcode from "qrcode-generator";
import { formatBanner, lanAddress, pickLanAddress } from "../../coordinator/banner.ts";
import { qrModules, renderQr } from "../../coordinator/qr_terminal.ts";

/** The module matrix back from terminal text (true = dark), checking the quiet zone on the way. */
function modulesFromText(text: string, quietZone: number, lightOnDark: boolean): boolean[][] {
  const lines = text.split("\n").map((line) => [...line]);
  const width = lines[0].length;
  const ink: boolean[][] = [];
  for (const line of lines) {
    assert.equal(line.length, width, "every line is as wide as the code");
    assert.ok(line.every((glyph) => " ▀▄█".includes(glyph)), `only half blocks: ${line.join("")}`);
    ink.push(line.map((glyph) => glyph === "▀" || glyph === "█"));
    ink.push(line.map((glyph) => glyph === "▄" || glyph === "█"));
  }
  // The code is square; an odd size leaves the last half line as terminal background.
  assert.ok(ink.length === width || ink.length === width + 1, "square code");
  if (ink.length > width) assert.ok(ink[width].every((inked) => !inked), "nothing below");
  const dark = ink.slice(0, width).map((row) => row.map((inked) => inked !== lightOnDark));
  dark.forEach((row, r) =>
    row.forEach((isDark, c) => {
      const inZone = r < quietZone || c < quietZone || r >= width - quietZone ||
        c >= width - quietZone;
      if (inZone) assert.equal(isDark, false, `quiet zone is light at ${r},${c}`);
    })
  );
  return dark.slice(quietZone, width - quietZone).map((row) =>
    row.slice(quietZone, width - quietZone)
  );
}

/**
 * A minimal QR reader, written from the standard, for versions 1-5 at level L (one
 * Reed-Solomon block, byte mode): format bits, unmasking, the zig-zag, the byte segment.
 * It shares nothing with qrcode-generator, so a round trip checks the whole chain.
 */
function decodeQr(dark: boolean[][]): string {
  const size = dark.length;
  const version = (size - 17) / 4;
  assert.ok(Number.isInteger(version) && version >= 1 && version <= 5, `version ${version}`);

  const bit = (row: number, col: number) => (dark[row][col] ? 1 : 0);
  let copy1 = 0;
  let copy2 = 0;
  const copy1Cells = [
    ...[0, 1, 2, 3, 4, 5, 7, 8].map((row) => [row, 8]),
    ...[7, 5, 4, 3, 2, 1, 0].map((col) => [8, col]),
  ];
  const copy2Cells = [
    ...Array.from({ length: 8 }, (_, i) => [8, size - 1 - i]),
    ...Array.from({ length: 7 }, (_, i) => [size - 7 + i, 8]),
  ];
  copy1Cells.forEach(([row, col], i) => (copy1 |= bit(row, col) << i));
  copy2Cells.forEach(([row, col], i) => (copy2 |= bit(row, col) << i));
  assert.equal(copy1, copy2, "both copies of the format bits agree");
  const formatBits = (level: number, mask: number) => {
    const data = (level << 3) | mask;
    let rem = data;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    return ((data << 10) | rem) ^ 0x5412;
  };
  const mask = [0, 1, 2, 3, 4, 5, 6, 7].find((m) => formatBits(1, /* L */ m) === copy1);
  assert.ok(mask !== undefined, `format bits ${copy1.toString(2)} are level L`);

  const reserved = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const reserve = (row0: number, col0: number, rows: number, cols: number) => {
    for (let r = row0; r < row0 + rows; r++) {
      for (let c = col0; c < col0 + cols; c++) {
        reserved[r][c] = true;
      }
    }
  };
  reserve(0, 0, 9, 9); // finder, separator, format bits
  reserve(0, size - 8, 9, 8);
  reserve(size - 8, 0, 8, 9); // includes the dark module
  reserve(6, 0, 1, size); // timing
  reserve(0, 6, size, 1);
  if (version >= 2) reserve(size - 9, size - 9, 5, 5); // the one alignment pattern

  const flips = [
    (r: number, c: number) => (r + c) % 2 === 0,
    (r: number) => r % 2 === 0,
    (_r: number, c: number) => c % 3 === 0,
    (r: number, c: number) => (r + c) % 3 === 0,
    (r: number, c: number) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
    (r: number, c: number) => ((r * c) % 2) + ((r * c) % 3) === 0,
    (r: number, c: number) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
    (r: number, c: number) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
  ][mask];
  const bits: number[] = [];
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5; // the vertical timing column is skipped
    const upward = ((right + 1) & 2) === 0;
    for (let step = 0; step < size; step++) {
      const row = upward ? size - 1 - step : step;
      for (const col of [right, right - 1]) {
        if (!reserved[row][col]) bits.push(bit(row, col) ^ (flips(row, col) ? 1 : 0));
      }
    }
  }
  const dataCodewords = [19, 34, 55, 80, 108][version - 1];
  let at = 0;
  const take = (count: number) => {
    let value = 0;
    for (let i = 0; i < count; i++) value = (value << 1) | bits[at++];
    return value;
  };
  assert.equal(take(4), 0b0100, "byte mode");
  const length = take(8);
  assert.ok(4 + 8 + 8 * length <= 8 * dataCodewords, "segment fits the data codewords");
  const bytes = Uint8Array.from({ length }, () => take(8));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

const URLS = [
  "http://a/", // version 1
  "http://192.168.100.200:8927/", // version 2, the usual banner
  "http://[fe80::1234:5678:9abc:def0]:8927/", // version 3
  "http://party-room-server.local:65535/?name=" + "x".repeat(30), // version 4
  "https://a-rather-long-host-name.example.org:8927/" + "y".repeat(50), // version 5
];

Deno.test("the terminal QR code maps every module of qrcode-generator's matrix", () => {
  for (const text of [...URLS, "z".repeat(300)]) {
    const qr = qrcode(0, "L");
    qr.addData(text);
    qr.make();
    const size = qr.getModuleCount();
    const expected = Array.from(
      { length: size },
      (_, r) => Array.from({ length: size }, (_, c) => qr.isDark(r, c)),
    );
    for (const lightOnDark of [true, false]) {
      for (const quietZone of [0, 1, 2, 4]) {
        const rendered = renderQr(text, { lightOnDark, quietZone });
        assert.deepEqual(
          modulesFromText(rendered, quietZone, lightOnDark),
          expected,
          `${text} lightOnDark=${lightOnDark} quietZone=${quietZone}`,
        );
      }
    }
  }
});

Deno.test("the terminal QR code decodes back to its text", () => {
  const sizes = new Set<number>();
  for (const text of [...URLS, "http://192.168.1.5:8927/?room=Küche 🎉"]) {
    const dark = modulesFromText(renderQr(text), 2, true);
    sizes.add(dark.length);
    assert.equal(decodeQr(dark), text);
  }
  assert.deepEqual([...sizes].sort((a, b) => a - b), [21, 25, 29, 33, 37], "versions 1 to 5");
});

Deno.test("by default the code is light-on-dark with a two-module quiet zone of full blocks", () => {
  const lines = renderQr("http://192.168.1.5:8927/").split("\n");
  const size = [...lines[0]].length;
  assert.equal(size, 25 + 4);
  assert.equal(lines[0], "█".repeat(size), "the top quiet zone is drawn, not left dark");
  assert.equal(lines.at(-1), "▀".repeat(size), "the bottom quiet zone ends in a half line");
  assert.ok(
    lines.every((line) => line.startsWith("██") && line.endsWith("█") || line === lines.at(-1)),
  );
  assert.equal(lines.length, Math.ceil(size / 2), "two module rows per line");
});

Deno.test("renderQr hands non-ASCII text over as UTF-8", () => {
  const text = "Küche";
  const dark = modulesFromText(renderQr(text, { quietZone: 0 }), 0, true);
  assert.deepEqual(dark, qrModules(text));
  assert.equal(decodeQr(dark), text);
});

Deno.test("text too long for any QR code is a RangeError", () => {
  assert.throws(() => renderQr("x".repeat(3000)), RangeError);
  assert.throws(() => renderQr("x", { quietZone: -1 }), RangeError);
});

Deno.test("lanAddress returns an IPv4 address", () => {
  const address = lanAddress();
  assert.match(address, /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  assert.ok(address.split(".").every((octet) => Number(octet) <= 255), address);
  assert.ok(!address.startsWith("169.254."), "never link-local");
});

Deno.test("pickLanAddress prefers the room's network over loopback, Docker and VPNs", () => {
  const v4 = (name: string, address: string) => ({ family: "IPv4" as const, name, address });
  const v6 = (name: string, address: string) => ({ family: "IPv6" as const, name, address });
  assert.equal(pickLanAddress([]), "127.0.0.1");
  assert.equal(pickLanAddress([v4("lo", "127.0.0.1"), v6("eth0", "fe80::1")]), "127.0.0.1");
  assert.equal(pickLanAddress([v4("eth0", "169.254.3.4")]), "127.0.0.1");
  assert.equal(
    pickLanAddress([v4("lo", "127.0.0.1"), v4("docker0", "172.17.0.1"), v4("wlan0", "10.0.0.5")]),
    "10.0.0.5",
  );
  assert.equal(
    pickLanAddress([v4("eth0", "10.1.2.3"), v4("wlan0", "192.168.1.40")]),
    "192.168.1.40",
  );
  assert.equal(
    pickLanAddress([v4("tailscale0", "100.100.1.1"), v4("eth0", "172.20.0.9")]),
    "172.20.0.9",
  );
  assert.equal(
    pickLanAddress([v4("docker0", "172.17.0.1"), v4("eth0", "203.0.113.7")]),
    "203.0.113.7",
    "a physical interface beats a virtual one",
  );
  assert.equal(pickLanAddress([v4("docker0", "172.17.0.1")]), "172.17.0.1");
  assert.equal(
    pickLanAddress([v4("eth0", "192.168.1.2"), v4("eth1", "192.168.2.2")]),
    "192.168.1.2",
    "list order breaks ties",
  );
});

Deno.test("the banner shows the address, its QR code and how to quit", () => {
  const url = "http://192.168.1.5:8927/";
  const banner = formatBanner(url);
  const lines = banner.split("\n");
  assert.equal(lines[0], `Server running at ${url}`);
  assert.ok(banner.includes(renderQr(url)));
  assert.equal(lines.at(-1), "Press Ctrl+C to quit");
  assert.ok(!banner.endsWith("\n"));
  const light = formatBanner(url, { qr: { lightOnDark: false } });
  assert.ok(light.includes(renderQr(url, { lightOnDark: false })));
});

Deno.test("a loopback banner says phones cannot reach it instead of showing a QR code", () => {
  for (const url of ["http://127.0.0.1:8927/", "http://localhost:8927/", "http://[::1]:8927/"]) {
    const banner = formatBanner(url);
    assert.ok(banner.startsWith(`Server running at ${url}\n`));
    assert.ok(!/[▀▄█]/.test(banner), url);
    assert.match(banner, /works only on this machine/);
    assert.ok(banner.endsWith("Press Ctrl+C to quit"));
  }
});

Deno.test({
  name: "lanAddress falls back to 127.0.0.1 without --allow-sys",
  permissions: { sys: false },
  fn: () => assert.equal(lanAddress(), "127.0.0.1"),
});
