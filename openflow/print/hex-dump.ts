// Hex dumps in the layout ovs-ofctl uses: an 8-digit offset, two spaces, 16 bytes with a
// dash between the eighth and ninth, and optionally the printable characters between bars.

/**
 * Formats `data` as ovs-ofctl's hex dump, one line per 16 bytes, each line ending in "\n".
 * With `ascii`, short last lines are padded so the character column lines up.
 */
export function formatHexDump(data: Uint8Array, options: { ascii: boolean }): string {
  let out = "";
  for (let lineStart = 0; lineStart < data.length; lineStart += 16) {
    const count = Math.min(16, data.length - lineStart);
    let line = lineStart.toString(16).padStart(8, "0") + "  ";
    let chars = "";
    for (let i = 0; i < count; i += 1) {
      const byte = data[lineStart + i] ?? 0;
      line += byte.toString(16).padStart(2, "0") + (i === 7 ? "-" : " ");
      chars += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".";
    }
    if (options.ascii) {
      line += "   ".repeat(16 - count) + "|" + chars.padEnd(16, " ") + "|";
    } else {
      line = line.trimEnd();
    }
    out += line + "\n";
  }
  return out;
}
