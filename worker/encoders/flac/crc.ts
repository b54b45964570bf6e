/** The two checksums of a FLAC frame: CRC-8 over the header and CRC-16 over the whole frame. */

/** CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), initial value 0. */
const CRC8_TABLE = buildTable(0x07, 8);
/** CRC-16, polynomial x^16 + x^15 + x^2 + 1 (0x8005), initial value 0. */
const CRC16_TABLE = buildTable(0x8005, 16);

function buildTable(polynomial: number, width: number): Uint16Array {
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << (width - 8);
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & top ? ((crc << 1) ^ polynomial) & mask : (crc << 1) & mask;
    }
    table[byte] = crc;
  }
  return table;
}

/** CRC-8 of `bytes[start..end)`. */
export function crc8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = CRC8_TABLE[crc ^ bytes[i]];
  return crc;
}

/** CRC-16 of `bytes[start..end)`. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[(crc >> 8) ^ bytes[i]];
  }
  return crc;
}
